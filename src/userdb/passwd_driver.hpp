// passwd_driver.hpp — the `passwd` driver: system users via getpwnam_r (NSS).
//
// Purpose: Debian's default Dovecot config (auth-system.conf.ext) uses `userdb { driver =
// passwd }`. Userdb role: uid, gid, home of the system user named by the key. Passdb role:
// the pw_passwd field as {CRYPT} (usually "x" with shadow passwords — only the existence
// matters to LMTP). `args` are ignored (Dovecot's blocking=yes etc.).
// Depends on: base. Error contract (driver.hpp): no such user → kNotFound; NSS failure →
// kTemporary. Threading: reentrant (getpwnam_r).
#pragma once

#include <memory>
#include <string_view>

#include "userdb/driver.hpp"

namespace dovetail::userdb {

class PasswdDriver final : public Driver {
 public:
  explicit PasswdDriver(Role role) : role_(role) {}
  [[nodiscard]] base::Result<Fields> lookup(const LookupRequest& request) override;

 private:
  Role role_;
};

}  // namespace dovetail::userdb
