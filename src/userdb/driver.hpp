// driver.hpp — internal interface of one passdb/userdb backend (not used outside userdb).
//
// Purpose: a driver turns a lookup key into raw Dovecot fields; UserDb applies
// default/override fields and converts them to User / PassdbResult (user_fields.hpp).
// Depends on: base. Error contract: kNotFound = this db does not know the user; any other
// kind = temporary (the user may exist). Threading: lookup() is called concurrently from
// many worker threads; each driver synchronises its own state.
#pragma once

#include <optional>

#include <string>

#include "base/result.hpp"
#include "userdb/fields.hpp"

namespace dovetail::userdb {

enum class Role { kPassdb, kUserdb };

struct LookupRequest {
  std::string user;     // %u: the key after auth_username_format
  std::string service;  // %s
};

class Driver {
 public:
  virtual ~Driver() = default;
  // Userdb role: uid, gid, home, mail, ... ; passdb role: password, nopassword, proxy, host,
  // port, ..., and userdb_* fields.
  [[nodiscard]] virtual base::Result<Fields> lookup(const LookupRequest& request) = 0;
  // The same answer without blocking — no syscall, no wait for a lock held during I/O — or
  // nullopt when that is not possible now (the caller then runs lookup() on a worker thread).
  // Lets an event thread answer RCPT itself for in-memory databases.
  [[nodiscard]] virtual std::optional<base::Result<Fields>> lookup_now(const LookupRequest&) {
    return std::nullopt;
  }
};

}  // namespace dovetail::userdb
