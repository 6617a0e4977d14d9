// user_fields.hpp — raw Dovecot fields → User / PassdbResult, uid/gid parsing.
//
// Purpose: one place that knows which field names are special (uid, gid, home, mail,
// quota_rule, sieve, user; password, nopassword, proxy, host, port, protocol, destuser,
// userdb_*). Depends on: base. Error contract: a malformed uid/gid/port/protocol is a
// kTemporary error (Dovecot marks such a lookup "tempfailed": an admin typo must not bounce
// mail). Threading: thread-safe (getpwnam_r/getgrnam_r).
#pragma once

#include <sys/types.h>

#include <string_view>

#include "base/result.hpp"
#include "userdb/fields.hpp"
#include "userdb/user.hpp"

namespace dovetail::userdb {

// Numeric ids or names (resolved with getpwnam_r / getgrnam_r).
// kInvalidInput: not a number and no such name; kTemporary: the name service failed.
base::Result<uid_t> parse_uid(std::string_view text);
base::Result<gid_t> parse_gid(std::string_view text);

base::Result<User> to_user(std::string_view key, Fields fields);
base::Result<PassdbResult> to_passdb_result(std::string_view key, const Fields& fields);

}  // namespace dovetail::userdb
