// db_chain.hpp — Dovecot's rules for walking a list of passdbs or userdbs.
//
// Purpose: per db, `skip` (userdb: never|found|notfound; passdb: never|authenticated|
// unauthenticated, where "authenticated" means an earlier passdb found the user — LMTP never
// verifies passwords) and `result_success` / `result_failure` / `result_internalfail`
// (return | return-ok | return-fail | continue | continue-ok | continue-fail). Defaults:
// success → return-ok, unknown → continue, internal failure → continue. Fields of a db that
// succeeded and continued are kept and later dbs add to / override them; a failed db adds
// nothing. Final answer: "success" → the fields; else a temporary failure when any db failed
// internally on the way (the user might have been there), else unknown user.
// Depends on: base, userdb/driver. Error contract: parse_rules → kConfig; run → kNotFound or
// kTemporary. Threading: immutable after construction; run() is safe concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "userdb/driver.hpp"

namespace dovetail::userdb {

enum class DbRule { kReturn, kReturnOk, kReturnFail, kContinue, kContinueOk, kContinueFail };
enum class DbSkip { kNever, kFound, kNotFound };

struct DbRules {
  DbSkip skip = DbSkip::kNever;
  DbRule on_success = DbRule::kReturnOk;
  DbRule on_failure = DbRule::kContinue;
  DbRule on_internalfail = DbRule::kContinue;
};

// Empty strings keep the defaults.
[[nodiscard]] base::Result<DbRules> parse_rules(Role role, const std::string& skip,
                                                const std::string& result_success,
                                                const std::string& result_failure,
                                                const std::string& result_internalfail);

struct ChainDb {
  std::unique_ptr<Driver> driver;
  Fields default_fields;   // unexpanded
  Fields override_fields;  // unexpanded
  DbRules rules;
};

// run_chain with Driver::lookup_now: nullopt when some db on the way cannot answer now.
[[nodiscard]] std::optional<base::Result<Fields>> run_chain_now(const std::vector<ChainDb>& chain,
                                                                const LookupRequest& request);
[[nodiscard]] base::Result<Fields> run_chain(const std::vector<ChainDb>& chain,
                                             const LookupRequest& request);

}  // namespace dovetail::userdb
