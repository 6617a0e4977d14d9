// recipient_key.hpp — from an RCPT address to the userdb lookup key and the detail.
//
// Purpose: Dovecot's address handling at RCPT: remove the detail at the first occurrence of
// ANY character of `recipient_delimiter` (a set, not a string: "+-" splits at '+' or '-'),
// then apply `auth_username_format` (default "%Lu") to get the lookup key.
// Example: "Alice+Lists@Test.Example" → username "Alice@Test.Example", detail "Lists",
// key "alice@test.example". The username (detail removed, case kept) is what
// "User doesn't exist: <username>" shows, as Dovecot does.
// Depends on: mail/envelope.hpp, base/var_expand. Error contract: never fails.
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "mail/envelope.hpp"

namespace dovetail::deliver {

struct RecipientKey {
  std::string username;  // local part without detail, "@domain" when there is a domain
  std::string detail;    // text after the delimiter; empty when none (also for "alice+@x")
  bool had_delimiter = false;
  std::string key;       // username after auth_username_format: what userdb is asked for
  // A variable auth_username_format names that does not exist ("" = none): Dovecot fails
  // such a lookup as an internal error, so the recipient is deferred, never "unknown".
  std::string unknown_variable;
};

struct SplitLocal {
  std::string_view user;
  std::string_view detail;
  bool had_delimiter = false;
};

// Splits at the first byte that is one of `delimiters`; an empty set never splits.
SplitLocal split_detail(std::string_view local, std::string_view delimiters);

// A user name that is safe to expand into paths (mail_location %u/%n/%d, passwd-file args):
// no '/', no control bytes, no "." or ".." between '@'s. Anything else is refused as an
// unknown user before any lookup, so no userdb (e.g. static allow_all_users) can turn an
// address like "../../tmp/x"@domain into a directory outside the mail root.
[[nodiscard]] bool is_safe_user_name(std::string_view user);

RecipientKey recipient_key(const mail::Address& address, std::string_view delimiters,
                           std::string_view auth_username_format);

}  // namespace dovetail::deliver
