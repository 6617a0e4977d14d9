// no_lookup_driver.hpp — drivers that exist in Dovecot configs but cannot answer LMTP's
// lookups: `pam`, `checkpassword`, `bsdauth` passdbs (they verify passwords, they cannot say
// whether a user exists) and the `prefetch` userdb (it only repeats what a passdb lookup
// returned, and LMTP does no passdb lookup before its userdb lookup).
//
// Purpose: accept such configs (Debian's default has `passdb { driver = pam }`) with
// Dovecot's answers: a lookup through pam & co. is a temporary failure ("passdb doesn't
// support lookups", which is what Dovecot's LMTP proxy and static userdb get); prefetch is
// "unknown, try the next userdb" — or a temporary failure when it is the last userdb.
// Depends on: base. Threading: stateless.
#pragma once

#include <string>

#include "userdb/driver.hpp"

namespace dovetail::userdb {

class NoLookupDriver final : public Driver {
 public:
  NoLookupDriver(base::ErrorKind kind, std::string message)
      : kind_(kind), message_(std::move(message)) {}
  [[nodiscard]] base::Result<Fields> lookup(const LookupRequest&) override {
    return base::fail(base::Error{kind_, 0, message_});
  }
  [[nodiscard]] std::optional<base::Result<Fields>> lookup_now(const LookupRequest& r) override { return lookup(r); }

 private:
  base::ErrorKind kind_;
  std::string message_;
};

}  // namespace dovetail::userdb
