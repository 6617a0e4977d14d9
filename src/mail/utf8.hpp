// utf8.hpp — strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
// Why here: SMTPUTF8 (RFC 6531) admits UTF-8 in command lines and addresses; anything else
// non-ASCII is garbage the parsers refuse. Depends on: std only. Threading: pure.
#pragma once

#include <cstddef>
#include <string_view>

namespace dovetail::mail {

// Length of the valid UTF-8 sequence starting at s[0] (1 for ASCII), 0 when invalid/truncated.
size_t utf8_sequence_length(std::string_view s);
bool is_valid_utf8(std::string_view s);

}  // namespace dovetail::mail
