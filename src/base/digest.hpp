// digest.hpp — message digests by Dovecot's hash-method names, computed by OpenSSL.
//
// Purpose: `%` variables hash values the way Dovecot does — %M and %N (MD5) and
// `%{sha256:user}`-style functions — so that hash-partitioned paths land where Dovecot put
// them. Nothing here is security-relevant. Names are Dovecot 2.3's: md5, sha1, sha256, sha384,
// sha512, sha3-256, sha3-512 (case-sensitive, as in Dovecot). md4 is a Dovecot method too, but
// OpenSSL 3 keeps it in its legacy provider, which Dovetail does not load: it is refused.
// Depends on: std, OpenSSL libcrypto (decision 0013). Error contract: unknown method = nullopt;
// never throws. Threading: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dovetail::base {

// Whether `method` is one of the names above.
bool is_digest_method(std::string_view method);

// The raw digest of `data`, or nullopt when `method` is not one of the names above.
std::optional<std::string> digest(std::string_view method, std::string_view data);

// MD5 of `data` as 32 lower-case hex digits (%M).
std::string md5_hex(std::string_view data);

// Lower-case (or upper-case) hex of arbitrary bytes.
std::string to_hex(std::string_view bytes, bool upper = false);

// Standard base64 with padding (RFC 4648 section 4).
std::string to_base64(std::string_view bytes);

}  // namespace dovetail::base
