// var_expand.hpp — Dovecot `%` variable templates (%u %n %d %h %{user} %Lu %% ...).
//
// Purpose: settings such as mail_location, passwd-file args and auth_username_format are
// kept as templates and expanded at use with the values of one user/connection.
// Supported: %X and %{long} with modifiers L (lower), U (upper) in any order before the key,
// e.g. %Lu, %{Ld}... is NOT Dovecot syntax; Dovecot writes modifiers before the brace: %L{user}.
// Unknown variables expand to the empty string and are reported via `unknown` (Dovecot logs
// them too). `~/` at the start is NOT handled here (see expand_home()).
// Depends on: std only. Threading: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dovetail::base {

struct VarEntry {
  char key;                // short form, e.g. 'u'; '\0' when none
  std::string_view name;   // long form, e.g. "user"
  std::string value;
};

using VarTable = std::vector<VarEntry>;

struct Expanded {
  std::string text;
  std::vector<std::string> unknown;  // variable names that had no value in the table
};

Expanded var_expand(std::string_view tmpl, const VarTable& vars);

// The standard table for one user: u/user, n/username, d/domain, h/home, plus extras.
VarTable user_vars(std::string_view user, std::string_view home);

// "~/x" -> home + "/x", "~" -> home; anything else unchanged.
std::string expand_home(std::string_view path, std::string_view home);

}  // namespace dovetail::base
