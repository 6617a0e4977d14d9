// mutf7.hpp — UTF-8 → IMAP modified UTF-7 (RFC 3501 5.1.3), the on-disk folder name encoding
// Dovecot uses for Maildir (`&` → `&-`, `ä` → `&AOQ-`).
// Depends on: std only. Error contract: nullopt for input that is not valid UTF-8 (overlong
// forms, surrogates and code points above U+10FFFF are invalid). Threading: pure function.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dovetail::storage {

std::optional<std::string> utf8_to_mutf7(std::string_view utf8);

}  // namespace dovetail::storage
