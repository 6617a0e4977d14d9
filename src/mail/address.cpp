#include "mail/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

namespace dovetail::mail {

bool is_atext(unsigned char c) {
  if (c >= 0x80) return true;  // RFC 6531 UTF8-non-ascii
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

bool is_dot_string(std::string_view local) {
  if (local.empty() || local.front() == '.' || local.back() == '.') return false;
  char prev = 0;
  for (char ch : local) {
    if (ch == '.') {
      if (prev == '.') return false;
    } else if (!is_atext(static_cast<unsigned char>(ch))) {
      return false;
    }
    prev = ch;
  }
  return true;
}

bool has_non_ascii(std::string_view s) {
  for (char ch : s)
    if (static_cast<unsigned char>(ch) >= 0x80) return true;
  return false;
}

bool has_non_ascii(const Address& a) { return has_non_ascii(a.local) || has_non_ascii(a.domain); }

namespace {

using base::Error;
using base::fail;

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  unsigned char peek() const { return done() ? 0 : static_cast<unsigned char>(s_[i_]); }
  bool at(char c) const { return !done() && s_[i_] == c; }
  void next() { ++i_; }
  size_t pos() const { return i_; }
  std::string_view slice(size_t from) const { return s_.substr(from, i_ - from); }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// Dovecot's lenient sub-domain characters: letters, digits, '-' and '_' anywhere; and, for
// RFC 6531, every non-ASCII octet.
bool is_label_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c >= 0x80;
}
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_alnum(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// RFC 5321 qtextSMTP (+ UTF8-non-ascii, RFC 6531) and the octet after a backslash.
bool is_qtext(unsigned char c) { return (c >= 32 && c <= 126 && c != '"' && c != '\\') || c >= 0x80; }
bool is_qpair(unsigned char c) { return c >= 32 && c <= 126; }
bool is_dcontent(unsigned char c) { return c >= 33 && c <= 126 && c != '[' && c != '\\' && c != ']'; }

// The parsers below follow Dovecot's lib-smtp: 0 = "not here" (nothing consumed that
// matters), 1 = parsed, -1 = error with `err` set to Dovecot's message.

enum class Octets { kUtf8, kAscii };

int parse_domain(Cursor& c, std::string* out, const char*& err, Octets octets = Octets::kUtf8) {
  auto label = [octets](unsigned char ch) { return is_label_char(ch) && (ch < 0x80 || octets == Octets::kUtf8); };
  if (c.done() || !label(c.peek())) return 0;
  size_t start = c.pos();
  for (;;) {
    if (c.done() || c.at('.')) {
      err = "Empty sub-domain";
      return -1;
    }
    if (!label(c.peek())) {
      err = "Invalid character in domain";
      return -1;
    }
    while (!c.done() && label(c.peek())) c.next();
    if (!c.at('.')) break;
    c.next();
  }
  if (out) *out = std::string(c.slice(start));
  return 1;
}

// Snum: digits with a value up to 255.
bool parse_snum(Cursor& c) {
  if (!is_digit(c.peek())) return false;
  unsigned v = 0;
  while (is_digit(c.peek())) {
    v = v * 10 + (c.peek() - '0');
    if (v > 255) return false;
    c.next();
  }
  return true;
}

// RFC 5321 4.1.3 address-literal: IPv4, "IPv6:" + an address inet_pton accepts, or a
// general "tag:dcontent" literal.
int parse_address_literal(Cursor& c, std::string* out, const char*& err) {
  if (!c.at('[')) return 0;
  size_t start = c.pos();
  c.next();
  if (is_digit(c.peek())) {
    bool ok = parse_snum(c);
    for (int i = 0; ok && i < 3 && !c.done(); ++i) {
      if (!c.at('.')) {
        ok = false;
        break;
      }
      c.next();
      ok = parse_snum(c);
    }
    if (!ok) {
      err = "Invalid IPv4 address literal";
      return -1;
    }
  } else {
    size_t tag_start = c.pos();
    size_t last_alnum = std::string_view::npos;
    while (!c.done() && (is_alnum(c.peek()) || c.at('-'))) {
      if (is_alnum(c.peek())) last_alnum = c.pos();
      c.next();
    }
    // Ldh-str ends in a letter or digit: a trailing '-' is not part of the tag.
    if (last_alnum == std::string_view::npos || last_alnum + 1 != c.pos() || !c.at(':')) {
      err = "Invalid address literal";
      return -1;
    }
    std::string tag(c.slice(tag_start));
    for (char& ch : tag) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
    c.next();
    size_t content = c.pos();
    while (!c.done() && is_dcontent(c.peek())) c.next();
    if (c.pos() == content) {
      err = "Empty address literal";
      return -1;
    }
    if (tag == "IPV6") {
      std::string text(c.slice(content));
      unsigned char buf[sizeof(struct in6_addr)];
      if (inet_pton(AF_INET6, text.c_str(), buf) != 1) {
        err = "Invalid IPv6 address literal";
        return -1;
      }
    }
  }
  if (c.done()) {
    err = "Missing ']' at end of address literal";
    return -1;
  }
  if (!c.at(']')) {
    err = "Invalid character in address literal";
    return -1;
  }
  c.next();
  if (out) *out = std::string(c.slice(start));
  return 1;
}

int parse_quoted_string(Cursor& c, std::string& out, const char*& err) {
  if (!c.at('"')) return 0;
  c.next();
  for (;;) {
    while (!c.done() && is_qtext(c.peek())) {
      out.push_back(static_cast<char>(c.peek()));
      c.next();
    }
    if (!c.at('\\')) break;
    c.next();
    if (c.done() || !is_qpair(c.peek())) {
      err = "Invalid character after '\\' in quoted string";
      return -1;
    }
    out.push_back(static_cast<char>(c.peek()));
    c.next();
  }
  if (c.done()) {
    err = "Premature end of quoted string";
    return -1;
  }
  if (!c.at('"')) {
    err = "Invalid character in quoted string";
    return -1;
  }
  c.next();
  return 1;
}

// Local part: a quoted string (unquoted into `out`) or atext and dots in any arrangement
// (Dovecot's leniency for addresses like "alice.@x").
int parse_local(Cursor& c, std::string& out, const char*& err) {
  if (int r = parse_quoted_string(c, out, err); r != 0) return r;
  if (c.done() || (!is_atext(c.peek()) && !c.at('.'))) return 0;
  while (!c.done() && (is_atext(c.peek()) || c.at('.'))) {
    out.push_back(static_cast<char>(c.peek()));
    c.next();
  }
  return 1;
}

enum class NeedDomain { kYes, kNo };

int parse_mailbox_at(Cursor& c, bool in_path, NeedDomain need, Address& a, const char*& err) {
  int r = parse_local(c, a.local, err);
  if (r <= 0) return r;
  if (!c.at('@')) {
    if (need == NeedDomain::kNo) return 1;
    err = (c.done() || (in_path && c.at('>'))) ? "Missing domain" : "Invalid character in localpart";
    return -1;
  }
  c.next();
  r = parse_domain(c, &a.domain, err);
  if (r == 0) r = parse_address_literal(c, &a.domain, err);
  if (r == 0) {
    err = (c.done() || (in_path && c.at('>'))) ? "Missing domain after '@'" : "Invalid domain";
    return -1;
  }
  return r;
}

// RFC 5321 A-d-l: "@one,@two:" — obsolete, accepted and ignored (RFC 5321 4.1.2, C).
int skip_source_route(Cursor& c, const char*& err) {
  if (!c.at('@')) return 0;
  c.next();
  for (;;) {
    if (parse_domain(c, nullptr, err) <= 0) {
      err = "Missing domain after '@' in source route";
      return -1;
    }
    if (!c.at(',')) break;
    c.next();
    if (!c.at('@')) {
      err = "Missing '@' after ',' in source route";
      return -1;
    }
    c.next();
  }
  if (!c.at(':')) {
    err = "Missing ':' at end of source route";
    return -1;
  }
  c.next();
  return 1;
}

// Dovecot's LMTP takes a reverse-path it cannot parse as the null sender, as long as the
// text still has the shape "<...>": no white space or control octets before the first '>',
// quoted strings well-formed. Returns the offset just past that '>' (0 = not that shape).
size_t broken_path_end(std::string_view in) {
  Cursor c(in);
  if (!c.at('<')) return 0;
  c.next();
  while (!c.done()) {
    if (c.at('"')) {
      std::string ignored;
      const char* err = nullptr;
      if (parse_quoted_string(c, ignored, err) < 0) return 0;
      continue;
    }
    unsigned char ch = c.peek();
    if (ch == '>') return c.pos() + 1;
    if (ch <= ' ' || ch == 127) return 0;
    c.next();
  }
  return 0;
}

base::Result<ParsedPath> fail_with(const char* err) { return fail(Error::invalid(err)); }

}  // namespace

base::Result<ParsedPath> parse_path(std::string_view in, PathKind kind) {
  ParsedPath p;
  if (in.empty()) return fail_with("Path is empty string");
  Cursor c(in);
  if (!c.at('<')) return fail_with("Missing '<' at beginning of path");
  c.next();
  const char* err = nullptr;
  const bool reverse = kind == PathKind::kReverse;
  int r = skip_source_route(c, err);
  int source_route = r;
  if (r >= 0) {
    r = parse_mailbox_at(c, /*in_path=*/true, reverse ? NeedDomain::kYes : NeedDomain::kNo, p.address, err);
    if (r == 0) {
      if (c.at('>')) {
        if (source_route > 0) {
          err = "Path only consists of source route";
          r = -1;
        } else if (!reverse) {
          err = "Null path not allowed";
          r = -1;
        } else {
          p.null_path = true;
          r = 1;
        }
      } else {
        err = "Invalid character in localpart";
        r = -1;
      }
    }
  }
  if (r > 0) {
    if (!c.at('>')) {
      err = "Missing '>' at end of path";
      r = -1;
    } else {
      c.next();
      p.consumed = c.pos();
      return p;
    }
  }
  if (reverse) {
    if (size_t end = broken_path_end(in); end != 0) {
      ParsedPath broken;
      broken.null_path = true;
      broken.broken = true;
      broken.consumed = end;
      return broken;
    }
  }
  return fail_with(err);
}

std::optional<std::string> helo_domain(std::string_view arg) {
  Cursor c(arg);
  std::string domain;
  const char* err = nullptr;
  int r = parse_domain(c, &domain, err, Octets::kAscii);
  if (r == 0) r = parse_address_literal(c, &domain, err);
  if (r <= 0 || (!c.done() && !c.at(' '))) return std::nullopt;
  return domain;
}

base::Result<Address> parse_mailbox(std::string_view in) {
  if (in.empty()) return fail(Error::invalid("Mailbox is empty string"));
  Cursor c(in);
  Address a;
  const char* err = nullptr;
  int r = parse_mailbox_at(c, /*in_path=*/false, NeedDomain::kYes, a, err);
  if (r == 0) return fail(Error::invalid("Invalid character in localpart"));
  if (r < 0) return fail(Error::invalid(err));
  if (!c.done()) return fail(Error::invalid("Invalid character in mailbox"));
  return a;
}

}  // namespace dovetail::mail
