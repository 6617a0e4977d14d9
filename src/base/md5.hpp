// md5.hpp — MD5 digest (RFC 1321) for Dovecot's %M and %N variable modifiers.
//
// Purpose: var_expand needs MD5 to give the same hash-partitioned paths as Dovecot
// (`%2.256Nu`); it is not used for anything security-relevant. Written from RFC 1321.
// Depends on: std only. Error contract: never fails. Threading: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace dovetail::base {

using Md5Digest = std::array<uint8_t, 16>;

Md5Digest md5(std::string_view data);

// Lower-case hex of the digest, 32 characters.
std::string md5_hex(std::string_view data);

}  // namespace dovetail::base
