#include "userdb/passwd_driver.hpp"

#include <pwd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace dovetail::userdb {

base::Result<Fields> PasswdDriver::lookup(const LookupRequest& request) {
  if (request.user.empty() || request.user.find('\0') != std::string::npos)
    return base::fail(base::Error::not_found("passwd: unknown user"));
  std::vector<char> buf(4096);
  struct passwd pw{};
  struct passwd* found = nullptr;
  int rc = 0;
  while ((rc = ::getpwnam_r(request.user.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20))
    buf.resize(buf.size() * 2);
  // Some NSS modules report "no such user" as an errno: treat those as unknown.
  if (found == nullptr && (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM))
    return base::fail(base::Error::not_found("passwd: unknown user " + request.user));
  if (found == nullptr)
    return base::fail(base::Error::from_errno(rc, "passwd: getpwnam(" + request.user + ")"));
  Fields out;
  if (role_ == Role::kUserdb) {
    out.emplace_back("uid", std::to_string(pw.pw_uid));
    out.emplace_back("gid", std::to_string(pw.pw_gid));
    if (pw.pw_dir && *pw.pw_dir) out.emplace_back("home", pw.pw_dir);
    out.emplace_back("system_groups_user", pw.pw_name);
  } else if (pw.pw_passwd && *pw.pw_passwd) {
    out.emplace_back("password", std::string("{CRYPT}") + pw.pw_passwd);
  }
  return out;
}

}  // namespace dovetail::userdb
