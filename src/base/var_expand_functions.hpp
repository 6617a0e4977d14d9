// var_expand_functions.hpp — Dovecot 2.3's `%{...}` functions: hashes and `if`.
//
// Purpose: the part of var_expand that is a small language of its own, kept out of the
// template scanner:
//   %{<method>[;<opt>,<opt>...]:<field>}   method = md5, sha1, sha256, … (base/digest.hpp)
//     options rounds=N (≥ 1; each round hashes salt + the previous digest), truncate=BITS
//     (the first BITS bits, right-aligned), format=hex|hexuc|base64, salt=S (expanded as a
//     template; the options end at the salt). Unknown options are ignored, as in Dovecot.
//     Dovecot 2.3.19 prints `hexuc` in lower case; so does Dovetail (same paths).
//   %{if;<a>;<op>;<b>;<then>[;<else>]}
//     a, b, then, else are unescaped (`\;` `\:` `\%`) and then expanded as templates; op is
//     numeric == != < <= > >= (decimal integers, else an error), bytewise eq ne lt le gt ge,
//     wildcard * !* (`*` and `?` in b) or POSIX extended regex ~ !~. An unescaped `:` outside
//     a nested %{...} ends the argument list (Dovecot ignores what follows).
// Every figure above was checked against Dovecot 2.3.19 (`doveadm mailbox path`); the unit
// tests carry its outputs.
// Depends on: base/digest, base/var_expand, POSIX regex. Error contract: a failure is a
// value (FunctionValue::error), never an exception. Threading: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/var_expand.hpp"

namespace dovetail::base::detail {

struct FunctionValue {
  std::string text;
  std::string error;  // non-empty: the function failed, `text` is meaningless
};

// `key` is what stands between the braces. nullopt: no function by that name (the caller
// then treats the key as an unknown variable).
std::optional<FunctionValue> expand_function(std::string_view key, VarRefs vars);

// A `%{name}` lookup outside functions (the table, then pid/uid/gid/hostname/env:NAME):
// what a hash function's field names. Defined in var_expand.cpp.
std::optional<std::string> lookup_long_value(std::string_view key, VarRefs vars);

}  // namespace dovetail::base::detail
