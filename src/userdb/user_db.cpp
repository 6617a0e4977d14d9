#include "userdb/user_db.hpp"

#include <optional>

#include "userdb/driver.hpp"
#include "userdb/no_lookup_driver.hpp"
#include "userdb/passwd_driver.hpp"
#include "userdb/passwd_file.hpp"
#include "userdb/sql_driver.hpp"
#include "userdb/static_driver.hpp"
#include "userdb/user_fields.hpp"

namespace dovetail::userdb {
namespace {

struct Db {
  std::string driver_name;
  std::unique_ptr<Driver> driver;
  Fields default_fields;
  Fields override_fields;
};

base::Result<std::unique_ptr<Driver>> make_driver(Role role, const DbSpec& spec,
                                                  PassdbCheck passdb_check, bool last_in_chain) {
  if (spec.driver == "passwd-file") return PasswdFileDriver::create(role, spec.args);
  if (spec.driver == "passwd") return std::unique_ptr<Driver>(new PasswdDriver(role));
  if (role == Role::kPassdb &&
      (spec.driver == "pam" || spec.driver == "checkpassword" || spec.driver == "bsdauth"))
    return std::unique_ptr<Driver>(new NoLookupDriver(
        base::ErrorKind::kTemporary, "passdb " + spec.driver + " doesn't support lookups"));
  if (role == Role::kUserdb && spec.driver == "prefetch")
    return std::unique_ptr<Driver>(
        last_in_chain ? new NoLookupDriver(base::ErrorKind::kTemporary,
                                           "userdb lookup not possible with only userdb prefetch")
                      : new NoLookupDriver(base::ErrorKind::kNotFound,
                                           "prefetch: no passdb lookup, trying the next userdb"));
  if (spec.driver == "static") return StaticDriver::create(role, spec.args, std::move(passdb_check));
  if (spec.driver == "sql") return SqlDriver::create(role, spec.args);
  return base::fail(base::Error::config(std::string(role == Role::kUserdb ? "userdb" : "passdb") +
                                        ": unsupported driver '" + spec.driver + "'"));
}

// Dovecot's default chain: success returns, "unknown" continues, an internal failure
// continues but taints a final "unknown" into a failure.
base::Result<Fields> run_chain(const std::vector<Db>& chain, const LookupRequest& request) {
  std::optional<base::Error> failure;
  for (const auto& db : chain) {
    auto found = db.driver->lookup(request);
    if (!found) {
      if (found.error().kind != base::ErrorKind::kNotFound) {
        if (!failure) failure = found.error();
        if (failure->kind != base::ErrorKind::kTemporary) failure->kind = base::ErrorKind::kTemporary;
      }
      continue;
    }
    const std::string* home_field = find_field(*found, "home");
    std::string home = home_field ? *home_field : std::string();
    auto vars = lookup_vars(request.user, request.service, home);
    Fields out = expand_fields(db.default_fields, vars);
    for (auto& [key, value] : *found) set_field(out, key, std::move(value));
    if (const auto* h = find_field(out, "home")) vars = lookup_vars(request.user, request.service, *h);
    for (auto& [key, value] : expand_fields(db.override_fields, vars)) set_field(out, key, std::move(value));
    return out;
  }
  if (failure) return base::fail(*failure);
  return base::fail(base::Error::not_found("unknown user " + request.user));
}

}  // namespace

struct UserDb::Chains {
  std::vector<Db> passdbs;
  std::vector<Db> userdbs;
  std::string service;
};

UserDb::UserDb() : chains_(std::make_unique<Chains>()) {}
UserDb::~UserDb() = default;

base::Result<std::unique_ptr<UserDb>> UserDb::create(const UserDbConfig& config) {
  std::unique_ptr<UserDb> db(new UserDb());
  Chains* chains = db->chains_.get();
  chains->service = config.service;
  for (const auto& spec : config.passdbs) {
    auto driver = make_driver(Role::kPassdb, spec, {}, false);
    if (!driver) return base::fail(driver.error());
    chains->passdbs.push_back({spec.driver, std::move(*driver), parse_fields(spec.default_fields),
                               parse_fields(spec.override_fields)});
  }
  PassdbCheck check;
  if (!chains->passdbs.empty())
    check = [chains](const LookupRequest& r) { return run_chain(chains->passdbs, r); };
  for (size_t i = 0; i < config.userdbs.size(); ++i) {
    const DbSpec& spec = config.userdbs[i];
    auto driver = make_driver(Role::kUserdb, spec, check, i + 1 == config.userdbs.size());
    if (!driver) return base::fail(driver.error());
    chains->userdbs.push_back({spec.driver, std::move(*driver), parse_fields(spec.default_fields),
                               parse_fields(spec.override_fields)});
  }
  return db;
}

base::Result<User> UserDb::lookup_user(std::string_view key) const {
  LookupRequest request{std::string(key), chains_->service};
  auto fields = run_chain(chains_->userdbs, request);
  if (!fields) return base::fail(fields.error());
  return to_user(key, *fields);
}

base::Result<PassdbResult> UserDb::lookup_pass(std::string_view key) const {
  LookupRequest request{std::string(key), chains_->service};
  auto fields = run_chain(chains_->passdbs, request);
  if (!fields) return base::fail(fields.error());
  return to_passdb_result(key, *fields);
}

std::string format_username(std::string_view user, std::string_view auth_username_format) {
  if (auth_username_format.empty()) return std::string(user);
  return expand(auth_username_format, base::user_vars(user, ""));
}

}  // namespace dovetail::userdb
