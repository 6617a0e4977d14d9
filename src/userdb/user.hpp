// user.hpp — what a user lookup answers: the userdb User and the passdb PassdbResult.
//
// Purpose: plain values handed from userdb to deliver (User) and to the LMTP proxy
// (PassdbResult). Field names follow Dovecot's userdb/passdb fields: `uid`, `gid`, `home`,
// `mail` (overrides mail_location), `quota_rule`, `sieve`; `user` renames the user.
// Everything else a backend returns is kept in `extra`, unparsed.
// Depends on: std only. Threading: plain values.
// Security: uid/gid are what the backend said; first_valid_uid and friends are enforced by the
// caller that switches to them (storage/privsep), never here.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

namespace dovetail::userdb {

struct User {
  std::string name;           // the lookup key, or the backend's `user=` field when it renamed
  std::optional<uid_t> uid;   // unset: the caller falls back to mail_uid
  std::optional<gid_t> gid;   // unset: the caller falls back to mail_gid
  std::string home;           // "" = none given (mail_home may supply one)
  std::string mail;           // userdb `mail=`: replaces mail_location for this user; "" = none
  std::string quota_rule;     // userdb `quota_rule=`; "" = none
  std::string sieve;          // userdb `sieve=` (Pigeonhole script location); "" = none
  std::map<std::string, std::string> extra;  // other userdb fields (quota_rule2, nologin, ...)
};

// A passdb answer. LMTP never verifies passwords; it asks passdb only for proxy routing
// (lmtp_proxy = yes) and, for a static userdb without allow_all_users, whether the user exists.
struct PassdbResult {
  std::string name;            // the lookup key, or the passdb's `user=` field
  std::string password;        // "{SCHEME}..." as stored ("" with nopassword or none given)
  bool nopassword = false;     // `nopassword` field present
  bool proxy = false;          // `proxy` field present (any value, as Dovecot's lmtp does)
  std::string host;            // `host=`
  unsigned port = 0;           // `port=`; 0 = not given, the proxy uses its default
  std::string protocol = "lmtp";  // `protocol=` lmtp | smtp (validated: anything else fails)
  std::string destuser;        // `destuser=`: recipient to use on the backend; "" = same
  std::map<std::string, std::string> userdb_fields;  // `userdb_*` fields, prefix removed
  std::map<std::string, std::string> extra;          // other passdb fields (proxy_timeout, ...)
};

}  // namespace dovetail::userdb
