#include "userdb/static_driver.hpp"

#include <strings.h>

namespace dovetail::userdb {
namespace {

bool is_yes(const std::string& v) {
  return v.empty() || ::strcasecmp(v.c_str(), "yes") == 0 || ::strcasecmp(v.c_str(), "y") == 0 ||
         v == "1" || ::strcasecmp(v.c_str(), "true") == 0;
}

}  // namespace

base::Result<std::unique_ptr<Driver>> StaticDriver::create(Role role, std::string_view args,
                                                           PassdbCheck passdb_check) {
  std::unique_ptr<StaticDriver> d(new StaticDriver());
  d->role_ = role;
  for (auto& [key, value] : parse_fields(args)) {
    if (role == Role::kUserdb && key == "allow_all_users")
      d->allow_all_users_ = is_yes(value);
    else
      d->fields_.emplace_back(std::move(key), std::move(value));
  }
  if (role == Role::kUserdb && !d->allow_all_users_ && !passdb_check)
    return base::fail(base::Error::config(
        "userdb static: without allow_all_users=yes a passdb is needed to verify users"));
  d->passdb_check_ = std::move(passdb_check);
  return std::unique_ptr<Driver>(std::move(d));
}

base::Result<Fields> StaticDriver::lookup(const LookupRequest& request) {
  if (role_ == Role::kUserdb && !allow_all_users_) {
    // Dovecot: "this is a userdb-only lookup, use a passdb lookup to see if the user exists".
    auto exists = passdb_check_(request);
    if (!exists) return base::fail(exists.error());
  }
  // %h may refer to the home this same args line gives.
  std::string home;
  if (const auto* h = find_field(fields_, "home")) {
    auto expanded = expand(*h, lookup_vars(request.user, request.service, ""));
    if (!expanded) return base::fail(expanded.error());
    home = std::move(*expanded);
  }
  return expand_fields(fields_, lookup_vars(request.user, request.service, home));
}

}  // namespace dovetail::userdb
