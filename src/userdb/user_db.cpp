#include "userdb/user_db.hpp"

#include "userdb/db_chain.hpp"
#include "userdb/driver.hpp"
#include "userdb/no_lookup_driver.hpp"
#include "userdb/passwd_driver.hpp"
#include "userdb/passwd_file.hpp"
#include "userdb/sql_driver.hpp"
#include "userdb/static_driver.hpp"
#include "userdb/user_fields.hpp"

namespace dovetail::userdb {
namespace {

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

base::Result<ChainDb> make_db(Role role, const DbSpec& spec, PassdbCheck passdb_check,
                              bool last_in_chain) {
  auto rules = parse_rules(role, spec.skip, spec.result_success, spec.result_failure,
                           spec.result_internalfail);
  if (!rules) return base::fail(rules.error());
  auto driver = make_driver(role, spec, std::move(passdb_check), last_in_chain);
  if (!driver) return base::fail(driver.error());
  return ChainDb{std::move(*driver), parse_fields(spec.default_fields),
                 parse_fields(spec.override_fields), *rules};
}

}  // namespace

struct UserDb::Chains {
  std::vector<ChainDb> passdbs;
  std::vector<ChainDb> userdbs;
  std::string service;
};

UserDb::UserDb() : chains_(std::make_unique<Chains>()) {}
UserDb::~UserDb() = default;

base::Result<std::unique_ptr<UserDb>> UserDb::create(const UserDbConfig& config) {
  std::unique_ptr<UserDb> db(new UserDb());
  Chains* chains = db->chains_.get();
  chains->service = config.service;
  for (const auto& spec : config.passdbs) {
    auto made = make_db(Role::kPassdb, spec, {}, false);
    if (!made) return base::fail(made.error());
    chains->passdbs.push_back(std::move(*made));
  }
  PassdbCheck check;
  if (!chains->passdbs.empty())
    check = [chains](const LookupRequest& r) { return run_chain(chains->passdbs, r); };
  for (size_t i = 0; i < config.userdbs.size(); ++i) {
    const DbSpec& spec = config.userdbs[i];
    auto made = make_db(Role::kUserdb, spec, check, i + 1 == config.userdbs.size());
    if (!made) return base::fail(made.error());
    chains->userdbs.push_back(std::move(*made));
  }
  return db;
}

base::Result<User> UserDb::lookup_user(std::string_view key) const {
  LookupRequest request{std::string(key), chains_->service};
  auto fields = run_chain(chains_->userdbs, request);
  if (!fields) return base::fail(fields.error());
  return to_user(key, std::move(*fields));
}

std::optional<base::Result<User>> UserDb::lookup_user_now(std::string_view key) const {
  LookupRequest request{std::string(key), chains_->service};
  auto fields = run_chain_now(chains_->userdbs, request);
  if (!fields) return std::nullopt;
  if (!*fields) return base::Result<User>(base::fail(fields->error()));
  // A uid/gid given as a name needs getpwnam/getgrnam (NSS file reads): not now.
  for (const char* id : {"uid", "gid"}) {
    const std::string* v = find_field(**fields, id);
    if (v != nullptr && !is_numeric_id(*v))
      return std::nullopt;
  }
  return to_user(key, std::move(**fields));
}

base::Result<PassdbResult> UserDb::lookup_pass(std::string_view key) const {
  LookupRequest request{std::string(key), chains_->service};
  auto fields = run_chain(chains_->passdbs, request);
  if (!fields) return base::fail(fields.error());
  return to_passdb_result(key, *fields);
}

std::string format_username(std::string_view user, std::string_view auth_username_format) {
  if (auth_username_format.empty()) return std::string(user);
  const auto vars = base::user_var_refs(user, "");
  return base::var_expand(auth_username_format, base::VarRefs(vars)).text;
}

}  // namespace dovetail::userdb
