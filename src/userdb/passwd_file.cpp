#include "userdb/passwd_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <optional>

#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "userdb/user_fields.hpp"

namespace dovetail::userdb {
namespace {

constexpr size_t kMaxCachedFiles = 1024;  // templated paths: bound memory per hostile domains
constexpr char kEmptyMarker = '\x01';     // stands for a path variable that has no usable value

struct Identity {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  struct timespec mtime{};
  struct timespec ctime{};
  bool operator==(const Identity& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec &&
           ctime.tv_nsec == o.ctime.tv_nsec;
  }
};

Identity identity_of(const struct stat& st) {
  return {st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
}

bool has_vars(std::string_view tmpl) {
  for (size_t i = 0; i + 1 < tmpl.size(); ++i) {
    if (tmpl[i] != '%') continue;
    if (tmpl[i + 1] == '%') {
      ++i;
      continue;
    }
    return true;
  }
  return false;
}

// Dovecot's path_fix: a '/' in a value is "most likely an invalid request": cut there.
std::string fix_path_value(std::string_view v) {
  v = v.substr(0, v.find('/'));
  if (v.empty() || v == "." || v == "..") return std::string(1, kEmptyMarker);
  return std::string(v);
}

base::Result<std::string> read_all(int fd, const std::string& path) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return base::fail(base::Error::from_errno(errno, "passwd-file: read(" + path + ")"));
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

base::Error not_found(const std::string& what) { return base::Error::not_found(what); }

}  // namespace

struct PasswdFileDriver::FileState {
  std::mutex mu;  // serialises stat + reload of this file
  bool loaded = false;
  Identity id;
  std::shared_ptr<const PasswdTable> table;
  time_t checked_at = -1;  // coarse monotonic second of the last stat that matched `id`
};

namespace {
time_t coarse_second() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // vDSO: no syscall
  return ts.tv_sec;
}
}  // namespace

base::Result<std::unique_ptr<Driver>> PasswdFileDriver::create(Role role, std::string_view args) {
  std::unique_ptr<PasswdFileDriver> d(new PasswdFileDriver());
  d->role_ = role;
  for (const auto& [key, value] : parse_fields(args)) {
    if (!d->path_template_.empty())
      return base::fail(base::Error::config("passwd-file: unexpected argument after path: " + key));
    if (key == "scheme" && !value.empty()) {
      d->scheme_ = value;
    } else if (key == "username_format" && !value.empty()) {
      d->username_format_ = value;
    } else if (!value.empty()) {
      // "key=value" that is not an option: Dovecot treats unknown options as errors too.
      return base::fail(base::Error::config("passwd-file: unknown argument: " + key + "=" + value));
    } else {
      d->path_template_ = key;
    }
  }
  if (d->path_template_.empty())
    return base::fail(base::Error::config("passwd-file: args must name a file"));
  d->templated_ = has_vars(d->path_template_);
  if (!d->templated_) d->path_template_ = base::var_expand(d->path_template_, base::VarRefs{}).text;  // "%%" → "%"
  return std::unique_ptr<Driver>(std::move(d));
}

base::Result<std::shared_ptr<const PasswdTable>> PasswdFileDriver::table_for(
    const std::string& path) {
  std::shared_ptr<FileState> state;
  {
    std::lock_guard lock(files_mu_);
    auto it = files_.find(path);
    if (it == files_.end()) {
      if (files_.size() >= kMaxCachedFiles) files_.clear();
      it = files_.emplace(path, std::make_shared<FileState>()).first;
    }
    state = it->second;
  }

  std::lock_guard lock(state->mu);
  // Dovecot re-checks a passwd-file at most once per second (db-passwd-file.c compares the
  // ioloop's second): an edit is seen within a second, and a burst of lookups — ten RCPTs,
  // then the privileged writer's ten re-lookups — costs one stat() instead of twenty.
  if (state->loaded && state->checked_at == coarse_second()) return state->table;
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    state->loaded = false;
    state->table.reset();
    if (err == ENOENT && templated_) {
      struct stat dir_st{};
      if (::stat(parent_dir(path).c_str(), &dir_st) == 0 && S_ISDIR(dir_st.st_mode))
        return base::fail(not_found("passwd-file: missing passwd file: " + path));
    }
    return base::fail(base::Error::from_errno(err, "passwd-file: stat(" + path + ")"));
  }
  if (state->loaded && state->id == identity_of(st)) {
    state->checked_at = coarse_second();
    return state->table;
  }

  base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    state->loaded = false;
    return base::fail(base::Error::from_errno(errno, "passwd-file: open(" + path + ")"));
  }
  if (::fstat(fd.get(), &st) != 0)
    return base::fail(base::Error::from_errno(errno, "passwd-file: fstat(" + path + ")"));
  if (!S_ISREG(st.st_mode))
    return base::fail(base::Error::temporary("passwd-file: not a regular file: " + path));
  auto content = read_all(fd.get(), path);
  if (!content) {
    state->loaded = false;
    return base::fail(content.error());
  }
  auto table = std::make_shared<PasswdTable>(parse_passwd_file(*content));
  for (const auto& w : table->warnings) base::log::error("passwd-file " + path + ": ", w);
  state->table = std::move(table);
  state->id = identity_of(st);
  state->loaded = true;
  state->checked_at = coarse_second();
  return state->table;
}

base::Result<Fields> PasswdFileDriver::lookup(const LookupRequest& request) {
  std::string path = path_template_;
  if (templated_) {
    auto expanded = expand(path_template_, lookup_vars(request.user, request.service, "", fix_path_value));
    if (!expanded) return base::fail(expanded.error());
    path = std::move(*expanded);
    if (path.find(kEmptyMarker) != std::string::npos)
      return base::fail(not_found("passwd-file: no file for user " + request.user));
  }
  auto table = table_for(path);
  if (!table) return base::fail(table.error());
  auto key = key_for(request);
  if (!key) return base::fail(key.error());
  return fields_from(**table, *key, request);
}

std::optional<base::Result<Fields>> PasswdFileDriver::lookup_now(const LookupRequest& request) {
  if (templated_) return std::nullopt;  // the file name depends on the user: keep it simple
  std::shared_ptr<const PasswdTable> table;
  {
    std::lock_guard files_lock(files_mu_);
    auto it = files_.find(path_template_);
    if (it == files_.end()) return std::nullopt;
    FileState& state = *it->second;
    // A reload holds this lock while it reads the file: never wait for it here.
    std::unique_lock lock(state.mu, std::try_to_lock);
    if (!lock.owns_lock() || !state.loaded || state.checked_at != coarse_second()) return std::nullopt;
    table = state.table;
  }
  auto key = key_for(request);
  if (!key) return std::nullopt;
  auto it = table->users.find(*key);
  if (it != table->users.end() && role_ == Role::kUserdb &&
      (!is_numeric_id(it->second.uid) || !is_numeric_id(it->second.gid)))
    return std::nullopt;
  return fields_from(*table, *key, request);
}

base::Result<std::string> PasswdFileDriver::key_for(const LookupRequest& request) const {
  if (username_format_ == "%u") return request.user;  // the common case needs no table of variables
  return expand(username_format_, lookup_vars(request.user, request.service, ""));
}

base::Result<Fields> PasswdFileDriver::fields_from(const PasswdTable& table, const std::string& key,
                                                   const LookupRequest& request) const {
  auto it = table.users.find(key);
  if (it == table.users.end())
    return base::fail(not_found("passwd-file: unknown user " + key));
  return role_ == Role::kUserdb ? userdb_fields(it->second, request)
                                : passdb_fields(it->second, request);
}

base::Result<Fields> PasswdFileDriver::userdb_fields(const PasswdEntry& e,
                                                     const LookupRequest& request) const {
  if (!e.has_userdb_info)
    return base::fail(not_found("passwd-file: user " + request.user + " has no userdb info"));
  Fields out;
  out.reserve(3 + e.extra.size());
  // Dovecot drops a line with uid/gid 0 or unparsable ids: the user does not exist.
  if (!e.uid.empty()) {
    auto uid = parse_uid(e.uid);
    if (!uid && uid.error().kind != base::ErrorKind::kInvalidInput) return base::fail(uid.error());
    if (!uid || *uid == 0) {
      base::log::error("passwd-file: ", "user " + request.user + " has invalid UID '" + e.uid + "'");
      return base::fail(not_found("passwd-file: user " + request.user + " has invalid uid"));
    }
    out.emplace_back("uid", std::to_string(*uid));
  }
  if (!e.gid.empty()) {
    auto gid = parse_gid(e.gid);
    if (!gid && gid.error().kind != base::ErrorKind::kInvalidInput) return base::fail(gid.error());
    if (!gid || *gid == 0) {
      base::log::error("passwd-file: ", "user " + request.user + " has invalid GID '" + e.gid + "'");
      return base::fail(not_found("passwd-file: user " + request.user + " has invalid gid"));
    }
    out.emplace_back("gid", std::to_string(*gid));
  }
  if (!e.home.empty()) out.emplace_back("home", e.home);
  std::optional<base::VarTable> vars;  // built only for a line that has userdb_ fields
  for (const auto& [key, value] : e.extra) {
    if (!key.starts_with("userdb_")) continue;
    if (!vars) vars = lookup_vars(request.user, request.service, e.home);
    auto v = expand(value, *vars);
    if (!v) return base::fail(v.error());
    set_field(out, key.substr(7), std::move(*v));
  }
  return out;
}

base::Result<Fields> PasswdFileDriver::passdb_fields(const PasswdEntry& e,
                                                     const LookupRequest& request) const {
  Fields out;
  if (!e.password.empty()) {
    std::string password = e.password;
    if (password.front() != '{') password = "{" + scheme_ + "}" + password;
    out.emplace_back("password", std::move(password));
  }
  auto vars = lookup_vars(request.user, request.service, e.home);
  for (const auto& [key, value] : e.extra) {
    auto v = expand(value, vars);
    if (!v) return base::fail(v.error());
    set_field(out, key, std::move(*v));
  }
  return out;
}

}  // namespace dovetail::userdb
