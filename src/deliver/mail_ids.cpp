#include "deliver/mail_ids.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <charconv>
#include <ctime>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace dovetail::deliver {
namespace {

std::optional<unsigned long> as_number(std::string_view v) {
  unsigned long n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return n;
}

// getpwnam_r/getgrnam_r read /etc/nsswitch.conf, /etc/passwd and /etc/group (about a dozen
// syscalls) and mail_uid is looked up for every recipient. Dovecot resolves mail_uid once
// when its settings load; we keep a successful answer for at most one second, so an edited
// /etc/passwd or a reloaded config is seen within a second. Failures are never cached: a
// fixed name works on the next attempt.
constexpr time_t kNameTtlSeconds = 1;

time_t coarse_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // vDSO: no syscall
  return ts.tv_sec;
}

class NameCache {
 public:
  std::optional<unsigned> get(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = ids_.find(name);
    if (it == ids_.end() || coarse_now() - it->second.at >= kNameTtlSeconds) return std::nullopt;
    return it->second.id;
  }
  void put(const std::string& name, unsigned id) {
    std::lock_guard lock(mu_);
    if (ids_.size() >= kMaxNames) ids_.clear();
    ids_[name] = Entry{id, coarse_now()};
  }

 private:
  static constexpr size_t kMaxNames = 64;  // mail_uid/mail_gid: a handful of names at most
  struct Entry {
    unsigned id;
    time_t at;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> ids_;
};

NameCache& user_names() {
  static NameCache cache;
  return cache;
}

NameCache& group_names() {
  static NameCache cache;
  return cache;
}

}  // namespace

base::Result<std::optional<uid_t>> parse_uid(std::string_view value) {
  if (value.empty()) return std::optional<uid_t>();
  if (auto n = as_number(value)) return std::optional<uid_t>(static_cast<uid_t>(*n));
  std::string name(value);
  if (auto cached = user_names().get(name)) return std::optional<uid_t>(static_cast<uid_t>(*cached));
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  int rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0) return base::fail(base::Error::from_errno(rc, "mail_uid: getpwnam(" + name + ")"));
  if (found == nullptr)
    return base::fail(base::Error::temporary("mail_uid: unknown user name '" + name + "'"));
  user_names().put(name, pw.pw_uid);
  return std::optional<uid_t>(pw.pw_uid);
}

base::Result<std::optional<gid_t>> parse_gid(std::string_view value) {
  if (value.empty()) return std::optional<gid_t>();
  if (auto n = as_number(value)) return std::optional<gid_t>(static_cast<gid_t>(*n));
  std::string name(value);
  if (auto cached = group_names().get(name)) return std::optional<gid_t>(static_cast<gid_t>(*cached));
  struct group gr {};
  struct group* found = nullptr;
  std::vector<char> buf(16384);
  int rc = getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
  if (rc != 0) return base::fail(base::Error::from_errno(rc, "mail_gid: getgrnam(" + name + ")"));
  if (found == nullptr)
    return base::fail(base::Error::temporary("mail_gid: unknown group name '" + name + "'"));
  group_names().put(name, gr.gr_gid);
  return std::optional<gid_t>(gr.gr_gid);
}

base::Result<MailIds> mail_ids(std::optional<uid_t> userdb_uid, std::optional<gid_t> userdb_gid,
                               const config::Settings& settings) {
  std::optional<uid_t> uid = userdb_uid;
  std::optional<gid_t> gid = userdb_gid;
  const char* uid_source = "uid from userdb lookup";
  const char* gid_source = "gid from userdb lookup";
  if (!uid) {
    auto parsed = parse_uid(settings.mail_uid);
    if (!parsed) return base::fail(parsed.error());
    uid = *parsed;
    uid_source = "uid from mail_uid";
  }
  if (!gid) {
    auto parsed = parse_gid(settings.mail_gid);
    if (!parsed) return base::fail(parsed.error());
    gid = *parsed;
    gid_source = "gid from mail_gid";
  }
  // Neither userdb nor settings name an id: a daemon not running as root (the one-uid
  // setup) writes as itself; a root daemon must be told, never guess root.
  if (!uid) {
    if (geteuid() == 0)
      return base::fail(base::Error::temporary(
          "no uid for mail: set mail_uid or return uid from the userdb (uid 0 is never used)"));
    uid = geteuid();
    uid_source = "uid of the daemon";
  }
  if (!gid) {
    if (getegid() == 0 && geteuid() == 0)
      return base::fail(base::Error::temporary(
          "no gid for mail: set mail_gid or return gid from the userdb"));
    gid = getegid();
    gid_source = "gid of the daemon";
  }
  const std::string u = std::to_string(*uid), g = std::to_string(*gid);
  if (*uid == 0)
    return base::fail(base::Error::temporary("mail access for UID 0 not permitted (" +
                                             std::string(uid_source) +
                                             "; see first_valid_uid: root never owns mail)"));
  if (*uid < settings.first_valid_uid)
    return base::fail(base::Error::temporary(
        "mail access for UID " + u + " not permitted (" + uid_source +
        "; see first_valid_uid = " + std::to_string(settings.first_valid_uid) + ")"));
  if (settings.last_valid_uid != 0 && *uid > settings.last_valid_uid)
    return base::fail(base::Error::temporary(
        "mail access for UID " + u + " not permitted (" + uid_source +
        "; see last_valid_uid = " + std::to_string(settings.last_valid_uid) + ")"));
  if (*gid < settings.first_valid_gid)
    return base::fail(base::Error::temporary(
        "mail access for GID " + g + " not permitted (" + gid_source +
        "; see first_valid_gid = " + std::to_string(settings.first_valid_gid) + ")"));
  if (settings.last_valid_gid != 0 && *gid > settings.last_valid_gid)
    return base::fail(base::Error::temporary(
        "mail access for GID " + g + " not permitted (" + gid_source +
        "; see last_valid_gid = " + std::to_string(settings.last_valid_gid) + ")"));
  return MailIds{*uid, *gid};
}

}  // namespace dovetail::deliver
