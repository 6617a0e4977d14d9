// user_db.hpp — the passdb/userdb chains of one config: who is a recipient, where their mail goes.
//
// Purpose: Dovecot-compatible lookups over `passdb {}` / `userdb {}` blocks in config order.
// Drivers: `passwd-file`, `static`, `sql` (dovecot-sql.conf.ext with driver = sqlite | pgsql),
// `passwd` (system users); accepted without lookups: `pam`/`checkpassword`/`bsdauth` passdbs
// and the `prefetch` userdb (no_lookup_driver.hpp). Anything else is a config error.
// Chain rules (db_chain.hpp): with Dovecot's defaults the first db that finds the user wins;
// "not found" moves to the next db; when no db found the user but one of them failed
// temporarily, the answer is a temporary failure (the user might have been in the failed one).
// `skip` and `result_success|failure|internalfail` work as in Dovecot. Not honoured:
// `deny = yes` and `master = yes` passdbs (the caller must leave master passdbs out).
// Per lookup, `default_fields` are applied under the driver's fields and `override_fields` over
// them (both `key=value ...` with %vars).
//
// Depends on: base only (config converts its AuthDb blocks into DbSpec values).
// Error contract: lookup_user/lookup_pass return the value when found; otherwise an Error whose
// kind is kNotFound when the user definitely does not exist (→ 550 5.1.1) and any other kind
// (kTemporary) when the answer is unknown: file unreadable, database down, query error, bad
// field value (→ 451 4.3.0). Callers must treat every kind except kNotFound as temporary.
// create() fails with kConfig for an unknown driver or an unreadable/invalid SQL config file.
// Threading: lookups block (file reads, SQL round trips); call them from worker threads, never
// from an event thread. All methods are safe to call concurrently from many threads.
// Security: SQL %variables are escaped with the backend's quoting rules (queries must put
// variables inside '...' as Dovecot requires); passwd-file path variables cannot climb out of
// the configured directory ('/' cuts the value, "." and ".." are refused).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "userdb/user.hpp"

namespace dovetail::userdb {

// One passdb {} or userdb {} block. `driver` = "passwd-file" | "static" | "sql".
struct DbSpec {
  std::string driver;
  std::string args;             // driver arguments, may hold %vars
  std::string default_fields;   // "key=value key2=value2" with %vars
  std::string override_fields;
  // Dovecot's chain controls; "" = default (skip never, success return-ok, failure and
  // internalfail continue).
  std::string skip;
  std::string result_success;
  std::string result_failure;
  std::string result_internalfail;
};

struct UserDbConfig {
  std::vector<DbSpec> passdbs;  // config order
  std::vector<DbSpec> userdbs;  // config order
  std::string service = "lmtp"; // %s in templates
};

class Driver;

class UserDb {
 public:
  [[nodiscard]] static base::Result<std::unique_ptr<UserDb>> create(const UserDbConfig& config);
  ~UserDb();
  UserDb(const UserDb&) = delete;
  UserDb& operator=(const UserDb&) = delete;

  // `key` is the username after detail removal and auth_username_format (format_username()).
  [[nodiscard]] base::Result<User> lookup_user(std::string_view key) const;
  [[nodiscard]] base::Result<PassdbResult> lookup_pass(std::string_view key) const;
  // lookup_user when every db on the way answers from memory (static with allow_all_users,
  // passwd-file checked within this second, ...), safe on an event thread; else nullopt.
  [[nodiscard]] std::optional<base::Result<User>> lookup_user_now(std::string_view key) const;

 private:
  UserDb();
  struct Chains;
  std::unique_ptr<Chains> chains_;
};

// auth_username_format applied to a user whose detail was already removed:
// format_username("Alice@Example.COM", "%Lu") == "alice@example.com"; "%n" → "Alice".
// An empty format means "%u" (no change).
std::string format_username(std::string_view user, std::string_view auth_username_format);

// True only for the definite "no such user" answer; everything else is temporary.
inline bool is_unknown_user(const base::Error& e) { return e.kind == base::ErrorKind::kNotFound; }

}  // namespace dovetail::userdb
