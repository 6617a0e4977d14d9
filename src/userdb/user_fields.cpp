#include "userdb/user_fields.hpp"

#include <grp.h>
#include <pwd.h>

#include <charconv>
#include <limits>
#include <string>
#include <vector>

namespace dovetail::userdb {
namespace {

template <class Id>
bool parse_number(std::string_view text, Id& out) {
  unsigned long long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  // (Id)-1 is the "unset" value of the C APIs: never a valid id.
  if (v >= static_cast<unsigned long long>(std::numeric_limits<Id>::max())) return false;
  out = static_cast<Id>(v);
  return true;
}

// getpwnam_r/getgrnam_r with a growing buffer. Returns 1 found, 0 no such name, -errno.
template <class Entry, class Fn>
int lookup_name(const std::string& name, Entry& entry, Fn fn) {
  std::vector<char> buf(1024);
  for (;;) {
    Entry* found = nullptr;
    int rc = fn(name.c_str(), &entry, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc == 0) return found != nullptr ? 1 : 0;
    // ENOENT/ESRCH/EBADF/EPERM mean "not found" for some NSS modules.
    if (rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) return 0;
    return -rc;
  }
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

base::Result<uid_t> parse_uid(std::string_view text) {
  uid_t uid = 0;
  if (is_digits(text)) {
    if (parse_number(text, uid)) return uid;
    return base::fail(base::Error::invalid("invalid uid '" + std::string(text) + "'"));
  }
  if (text.empty()) return base::fail(base::Error::invalid("empty uid"));
  struct passwd pw{};
  int rc = lookup_name(std::string(text), pw, ::getpwnam_r);
  if (rc > 0) return pw.pw_uid;
  if (rc == 0) return base::fail(base::Error::invalid("unknown user name '" + std::string(text) + "' for uid"));
  return base::fail(base::Error::from_errno(-rc, "getpwnam(" + std::string(text) + ")"));
}

base::Result<gid_t> parse_gid(std::string_view text) {
  gid_t gid = 0;
  if (is_digits(text)) {
    if (parse_number(text, gid)) return gid;
    return base::fail(base::Error::invalid("invalid gid '" + std::string(text) + "'"));
  }
  if (text.empty()) return base::fail(base::Error::invalid("empty gid"));
  struct group gr{};
  int rc = lookup_name(std::string(text), gr, ::getgrnam_r);
  if (rc > 0) return gr.gr_gid;
  if (rc == 0) return base::fail(base::Error::invalid("unknown group name '" + std::string(text) + "' for gid"));
  return base::fail(base::Error::from_errno(-rc, "getgrnam(" + std::string(text) + ")"));
}

base::Result<User> to_user(std::string_view key, Fields fields) {
  User user;
  user.name = std::string(key);
  for (auto& [name, value] : fields) {
    if (name == "uid") {
      auto uid = parse_uid(value);
      if (!uid) return base::fail(base::Error::temporary("userdb: " + uid.error().message));
      user.uid = *uid;
    } else if (name == "gid") {
      auto gid = parse_gid(value);
      if (!gid) return base::fail(base::Error::temporary("userdb: " + gid.error().message));
      user.gid = *gid;
    } else if (name == "home") {
      user.home = std::move(value);
    } else if (name == "mail") {
      user.mail = std::move(value);
    } else if (name == "quota_rule") {
      user.quota_rule = std::move(value);
    } else if (name == "sieve") {
      user.sieve = std::move(value);
    } else if (name == "user") {
      if (!value.empty()) user.name = std::move(value);
    } else {
      user.extra[name] = std::move(value);
    }
  }
  return user;
}

base::Result<PassdbResult> to_passdb_result(std::string_view key, const Fields& fields) {
  PassdbResult r;
  r.name = std::string(key);
  for (const auto& [name, value] : fields) {
    if (name.starts_with("userdb_")) {
      r.userdb_fields[name.substr(7)] = value;
    } else if (name == "password") {
      r.password = value;
    } else if (name == "nopassword") {
      r.nopassword = true;
    } else if (name == "proxy") {
      r.proxy = true;
    } else if (name == "host") {
      r.host = value;
    } else if (name == "port") {
      unsigned port = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
      if (ec != std::errc() || ptr != value.data() + value.size() || port == 0 || port > 65535)
        return base::fail(base::Error::temporary("passdb: invalid port number '" + value + "'"));
      r.port = port;
    } else if (name == "protocol") {
      if (value != "lmtp" && value != "smtp")
        return base::fail(base::Error::temporary("passdb: unknown protocol '" + value + "'"));
      r.protocol = value;
    } else if (name == "destuser") {
      r.destuser = value;
    } else if (name == "user") {
      if (!value.empty()) r.name = value;
    } else if (name == "username" && !value.empty()) {
      // Dovecot: "username" replaces the local part (or all of it when it has a domain).
      auto at = r.name.find('@');
      r.name = value.find('@') != std::string::npos || at == std::string::npos
                   ? value
                   : value + r.name.substr(at);
    } else if (name == "domain" && !value.empty()) {
      r.name = r.name.substr(0, r.name.find('@')) + "@" + value;
    } else {
      r.extra[name] = value;
    }
  }
  if (r.nopassword) r.password.clear();
  return r;
}

}  // namespace dovetail::userdb
