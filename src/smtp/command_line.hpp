// command_line.hpp — splits an SMTP command line into verb and parameters (RFC 5321 4.1.1).
//
// Purpose: the checks Dovecot's command parser makes before any command sees its line:
// the verb is at most 32 letters (possibly none: an empty line is the unknown command "")
// and followed by SP or the end (`BOGUS1` -> invalid syntax); parameters are HT, SP,
// printable ASCII or valid UTF-8 (RFC 6531), nothing else (NUL, control octets, broken
// UTF-8 -> invalid syntax); trailing SP/HT are dropped; a second SP before non-empty
// parameters (`MAIL  FROM:`) is invalid syntax.
// Depends on: mail/utf8.hpp. Error contract: std::nullopt = "500 5.5.2 Invalid command syntax".
// Threading: pure function.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dovetail::smtp {

struct CommandLine {
  std::string verb;       // upper-cased
  std::string_view args;  // after the single SP following the verb, trailing SP/HT dropped
};

std::optional<CommandLine> parse_command_line(std::string_view line);

// Case-insensitive ASCII prefix test/strip, e.g. "FROM:".
bool starts_with_nocase(std::string_view s, std::string_view prefix);

}  // namespace dovetail::smtp
