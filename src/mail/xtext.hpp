// xtext.hpp — RFC 3461 section 4 xtext decoding (ORCPT=, ENVID=) and RFC 6533 utf-8-addr-xtext.
//
// Purpose: Postfix sends `ORCPT=rfc822;orig+2Bx@remote.example` to a server advertising DSN;
// the original recipient is `orig+x@remote.example`.
// Depends on: base. Error contract: kInvalidInput with Dovecot's text
// ("Invalid hexchar after '+' in xtext"). Threading: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace dovetail::mail {

// xtext: "+" HEXDIG HEXDIG encodes one octet; other octets are printable ASCII except "=".
[[nodiscard]] base::Result<std::string> xtext_decode(std::string_view in);

// utf-8-addr-xtext / unitext (RFC 6533 3): also "\x{HEX}" encodes a Unicode scalar value.
[[nodiscard]] base::Result<std::string> utf8_addr_xtext_decode(std::string_view in);

}  // namespace dovetail::mail
