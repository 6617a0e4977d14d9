// fields.hpp — Dovecot "key=value" field lists and the %variables of one lookup.
//
// Purpose: the shared vocabulary of all drivers: an ordered list of (key, value) fields, the
// parser for "k=v k2=v2 flag" strings (static args, default_fields, passwd-file extra
// fields), and the variable table (%u %n %d %s %h) used to expand templates per lookup.
// Depends on: base/var_expand. Error contract: expand()/expand_fields() fail (kTemporary)
// when a template names a variable Dovecot would not know: Dovecot fails such a lookup
// ("Failed to expand ..."), and a path, key, query or field with the variable replaced by
// text could name another user or a directory no reader uses. Threading: pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "base/var_expand.hpp"

namespace dovetail::userdb {

using Field = std::pair<std::string, std::string>;
using Fields = std::vector<Field>;

// Splits at spaces/tabs; "flag" without '=' becomes ("flag", "").
Fields parse_fields(std::string_view text);

// Replaces the first field named `key`, or appends it.
void set_field(Fields& fields, std::string_view key, std::string value);
const std::string* find_field(const Fields& fields, std::string_view key);
// set_field for each of `from` in order (a repeated key keeps its first place and last value).
void merge_fields(Fields& into, Fields&& from);

// A uid/gid value that is a number (or unset): turning it into an id needs no NSS lookup
// (getpwnam/getgrnam read files), so it may be resolved on an event thread.
bool is_numeric_id(std::string_view value);

// %u/%{user}, %n/%{username}, %d/%{domain}, %s/%{service}, %h/%{home}.
// `escape` (optional) is applied to every value first: SQL quoting, path fixing.
base::VarTable lookup_vars(std::string_view user, std::string_view service, std::string_view home,
                           const std::function<std::string(std::string_view)>& escape = {});

[[nodiscard]] base::Result<std::string> expand(std::string_view tmpl, const base::VarTable& vars);

// Expands the value of every field (keys are never templates).
[[nodiscard]] base::Result<Fields> expand_fields(const Fields& fields, const base::VarTable& vars);

}  // namespace dovetail::userdb
