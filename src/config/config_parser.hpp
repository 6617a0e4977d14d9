// config_parser.hpp — the Dovecot 2.3 grammar: text/files -> ConfigTree.
//
// Purpose: `key = value`, comments (`#` outside quotes), "quoted"/'quoted' values with
// backslash escapes, trailing-backslash line continuation, `key = <path` (file contents),
// `$key` / `$ENV:NAME` references (whole space-separated words, unquoted values only),
// `!include` / `!include_try` with globs relative to the including file (cycles are errors),
// sections with optional names, repeated passdb/userdb, free-form plugin/dict blocks, and the
// filters `protocol NAME {}`, `local IP[/bits] {}`, `remote IP[/bits] {}`, `local_name NAME {}`.
// Keys are validated against Dovecot 2.3's key list (dovecot_keys.hpp) plus Dovetail's own rows.
// Depends on: base, config/dovecot_keys, config/settings_table. Error contract: Error::config
// with "file:line: message" (Dovecot's wording after the prefix). Threading: no shared state;
// reads files through plain POSIX calls.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "config/config_tree.hpp"

namespace dovetail::config {

base::Result<ConfigTree> parse_config_file(const std::string& path);
// `name` appears in messages; relative includes resolve against its directory (or the cwd).
base::Result<ConfigTree> parse_config_string(std::string_view text, const std::string& name);

}  // namespace dovetail::config
