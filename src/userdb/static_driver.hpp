// static_driver.hpp — the `static` passdb/userdb driver.
//
// Purpose: userdb role: args "uid=vmail gid=vmail home=/var/mail/%d/%n [allow_all_users=yes]"
// (any userdb field; values %-expanded per lookup). Without allow_all_users=yes, Dovecot
// answers a userdb-only lookup (what LMTP does) by asking the passdbs whether the user
// exists; this driver does the same through `passdb_check`. Passdb role: args are passdb
// fields for every user ("nopassword=y proxy=y host=10.0.0.1 port=24").
// Depends on: base, userdb/fields. Error contract (driver.hpp): the passdb answer decides
// found / not found / temporary. Threading: immutable after create; safe concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "userdb/driver.hpp"

namespace dovetail::userdb {

using PassdbCheck = std::function<base::Result<Fields>(const LookupRequest&)>;

class StaticDriver final : public Driver {
 public:
  // `passdb_check` may be empty only when allow_all_users=yes or role is passdb.
  [[nodiscard]] static base::Result<std::unique_ptr<Driver>> create(Role role,
                                                                    std::string_view args,
                                                                    PassdbCheck passdb_check);
  [[nodiscard]] base::Result<Fields> lookup(const LookupRequest& request) override;
  // Pure expansion, unless the answer needs the passdbs (no allow_all_users).
  [[nodiscard]] std::optional<base::Result<Fields>> lookup_now(const LookupRequest& request) override {
    if (role_ == Role::kUserdb && !allow_all_users_) return std::nullopt;
    return lookup(request);
  }

 private:
  StaticDriver() = default;
  Role role_ = Role::kUserdb;
  Fields fields_;  // unexpanded
  bool allow_all_users_ = false;
  PassdbCheck passdb_check_;
};

}  // namespace dovetail::userdb
