// address.hpp — RFC 5321 path parsing (`<local@domain>`, quoted local parts, null path,
// source routes skipped) and the character classes Dovecot's rendering needs.
//
// Purpose: the smtp MAIL/RCPT commands and the LDA's -f/-r arguments turn text into an
// Address here; Address::to_string() (envelope.cpp) renders it back the way Dovecot does.
// Leniency matches Dovecot 2.3's LMTP server: a local part made of atext and dots in any
// arrangement (`alice+../../evil`) is accepted and later rendered quoted; a path without a
// domain (`<alice>`) and domain literals (`<a@[127.0.0.1]>`) are accepted.
// UTF-8 (RFC 6531) is accepted by the parser; whether it is allowed (SMTPUTF8 parameter)
// is the caller's decision (see has_non_ascii()).
// Depends on: mail/envelope.hpp, base. Error contract: parse errors are kInvalidInput with
// Dovecot's message text ("Missing '<' at beginning of path"), for "501 5.5.4 Invalid TO: <msg>".
// Threading: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "mail/envelope.hpp"

namespace dovetail::mail {

struct ParsedPath {
  bool null_path = false;  // "<>", or a broken reverse-path taken as "<>"
  bool broken = false;     // a reverse-path that did not parse (`<sender@>`), taken as "<>"
  Address address;         // empty when null_path
  size_t consumed = 0;     // octets of the input the path used, up to and including '>'
};

// kReverse (MAIL FROM): "<>" allowed, a domain required, and, as in Dovecot's LMTP, a path
// that does not parse but is still bracketed without white space (`<sender@>`, `<a(b@x>`)
// is accepted as broken and taken as the null sender. kForward (RCPT TO): "<>" refused,
// a bare local part (`<postmaster>`) allowed.
enum class PathKind { kReverse, kForward };

// Parses a path at the start of `in` (the text after "FROM:" / "TO:"); what follows is the
// caller's (parameters). Errors are Dovecot's texts: "Path is empty string", "Empty
// sub-domain", "Invalid character in domain", "Invalid character in quoted string", ...
[[nodiscard]] base::Result<ParsedPath> parse_path(std::string_view in, PathKind kind);

// Parses a bare mailbox `local@domain` (no angle brackets) that must use all of `in`, e.g. the
// LDA's -f/-r arguments or an ORCPT value.
[[nodiscard]] base::Result<Address> parse_mailbox(std::string_view in);

// The LHLO/EHLO argument as Dovecot judges it (lib-smtp smtp_helo_domain_parse): an ASCII
// domain (letters, digits, '-', '_'; no empty label, no trailing dot) or an address literal,
// followed by nothing or by SP and anything. Returns that domain/literal; nullopt when the
// argument is not valid (`bad_name!`, `héllo.example`, `client.test.example.`), for which
// Dovecot writes "Received: from unknown".
std::optional<std::string> helo_domain(std::string_view arg);

// RFC 5322 atext, extended by RFC 6531 with every non-ASCII octet.
bool is_atext(unsigned char c);
// True when `local` is a valid dot-string and needs no quoting (RFC 5321 4.1.2).
bool is_dot_string(std::string_view local);
bool has_non_ascii(std::string_view s);
bool has_non_ascii(const Address& a);

}  // namespace dovetail::mail
