// mail_ids.hpp — which uid/gid a user's mail is written as, and whether that is allowed.
//
// Purpose: uid/gid come from the userdb (`uid`/`gid` fields), else from mail_uid/mail_gid
// (names or numbers, as in dovecot.conf); then first_valid_uid, last_valid_uid,
// first_valid_gid and last_valid_gid are enforced. uid 0 is never used for mail, whatever
// the settings say: a root-owned Maildir is a privilege-escalation foothold.
// Depends on: config/settings.hpp (see docs/decisions/0002-deliver-reads-settings.md), base.
// Error contract: a violation or an unresolvable name is a kTemporary Error whose message
// names the setting to fix (Dovecot also defers: the admin can fix the config and the MTA
// retries); the caller logs it and answers 451 4.3.0.
// Threading: thread-safe (getpwnam_r/getgrnam_r; a name → id answer is reused for up to
// one second, under a mutex).
// Security: this is the gate before any file is written as a user's uid.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

#include "base/result.hpp"
#include "config/settings.hpp"

namespace dovetail::deliver {

struct MailIds {
  uid_t uid = 0;
  gid_t gid = 0;
};

[[nodiscard]] base::Result<MailIds> mail_ids(std::optional<uid_t> userdb_uid,
                                             std::optional<gid_t> userdb_gid,
                                             const config::Settings& settings);

// "vmail" or "5000" → uid; "" → nullopt. Unknown names are errors.
[[nodiscard]] base::Result<std::optional<uid_t>> parse_uid(std::string_view value);
[[nodiscard]] base::Result<std::optional<gid_t>> parse_gid(std::string_view value);

}  // namespace dovetail::deliver
