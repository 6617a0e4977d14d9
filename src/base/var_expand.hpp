// var_expand.hpp — Dovecot 2.3 `%` variable templates (%u %n %d %h %{user} %Lu %2.1n %%).
//
// Purpose: settings such as mail_location, passwd-file args, SQL queries and
// auth_username_format are kept as templates and expanded at use with the values of one
// user/connection, byte for byte as Dovecot 2.3's var_expand does:
//   %[-][0]<width>[.[0][-]<width>]<modifiers><key>   key = one letter or {long name}
// * offset/width: `%3n` = first 3 characters, `%2.1n` = the third, `%-3.2n` = 2 characters
//   starting 3 from the end, `%0.-2n` = all but the last 2; a `0` before the width pads
//   with '0' instead of truncating (`%05X{uid}`). A positive offset past the end gives "".
// * modifiers, applied left to right before the substring: L lower, U upper, E escape
//   `"` `'` `\`, X decimal → hex, R reverse, H 32-bit string hash and N MD5-based hash
//   (both in hex; the width is a modulus and the offset a zero-pad length: `%4.256Hn`),
//   M MD5 hex, D `a.b` → `a,dc=b` (LDAP), T trim trailing whitespace.
// * long keys: the table's names, then `userdb:NAME[:DEFAULT]` (a table entry named
//   "userdb:NAME", else DEFAULT or ""), then the built-ins pid, uid, gid (effective ids:
//   callers that expand for a user put the user's ids in the table), hostname
//   ($DOVECOT_HOSTNAME or gethostname()) and env:NAME (unset = "").
// * functions: `%{sha256:user}`, `%{md5;truncate=32,format=base64:user}`, `%{if;%d;eq;x;a;b}`
//   (base/var_expand_functions.hpp). A function that fails (bad option, `if` on a number
//   that is not one) counts as unknown, with the reason in `error`.
// Unknown variables expand to `UNSUPPORTED_VARIABLE_<key>` as in Dovecot and are listed
// in `unknown` so callers that build paths can refuse the result (mail_location does).
// A trailing lone `%` is dropped (Dovecot). `~/` is NOT handled here (see expand_home()).
// Depends on: std + POSIX (getpid, geteuid, gethostname, getenv), base/digest. Threading: pure functions
// (getenv is read-only here).
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dovetail::base {

struct VarEntry {
  char key;                // short form, e.g. 'u'; '\0' when none
  std::string_view name;   // long form, e.g. "user"; empty when none
  std::string value;
};

using VarTable = std::vector<VarEntry>;

// A table entry whose value lives elsewhere. The per-recipient expansions (delivery log,
// log prefix, lookup key) build these on the stack from values they already hold: a
// VarTable copies every value, which cost ~30 allocations per delivery.
struct VarRef {
  char key = '\0';
  std::string_view name;
  std::string_view value;
};

using VarRefs = std::span<const VarRef>;

struct Expanded {
  std::string text;
  std::vector<std::string> unknown;  // keys that had no value ("z", "nope" for %{nope:x})
  std::string error;                 // why the first failed function failed; "" if none did
};

Expanded var_expand(std::string_view tmpl, VarRefs vars);
Expanded var_expand(std::string_view tmpl, const VarTable& vars);  // same, over views of the table

// Length of the `%[shape][modifiers]{...}` variable that starts at tmpl[i] == '%', braces
// nested (%{if;%{user};...}); 0 when it is not a braced variable or is never closed.
size_t braced_variable_length(std::string_view tmpl, size_t i);

// For a log line when `e.unknown` is not empty: "unknown variable %z, %{nope}", plus the
// reason in parentheses when a function failed.
std::string describe_failure(const Expanded& e);

// The standard table for one user: u/user, n/username, d/domain, h/home.
VarTable user_vars(std::string_view user, std::string_view home);
// The same four as views into `user` and `home`.
std::array<VarRef, 4> user_var_refs(std::string_view user, std::string_view home);

// "~/x" -> home + "/x", "~" -> home; anything else unchanged.
std::string expand_home(std::string_view path, std::string_view home);

}  // namespace dovetail::base
