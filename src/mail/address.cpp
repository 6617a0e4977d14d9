#include "mail/address.hpp"

#include <cstring>

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

bool is_domain_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c >= 0x80;
}

// RFC 5321 Domain / address-literal; Dovecot is lenient about label structure, we only refuse
// empty labels.
base::Result<std::string> parse_domain(Cursor& c) {
  size_t start = c.pos();
  if (c.at('[')) {
    c.next();
    while (!c.done() && !c.at(']')) {
      unsigned char ch = c.peek();
      if (ch < 33 || ch > 126 || ch == '[' || ch == '\\') return fail(Error::invalid("Invalid domain literal"));
      c.next();
    }
    if (!c.at(']')) return fail(Error::invalid("Invalid domain literal"));
    c.next();
    if (c.pos() - start == 2) return fail(Error::invalid("Invalid domain literal"));
    return std::string(c.slice(start));
  }
  while (!c.done() && is_domain_char(c.peek())) c.next();
  std::string_view d = c.slice(start);
  if (d.empty()) return fail(Error::invalid("Missing domain"));
  if (d.front() == '.' || d.back() == '.' || d.find("..") != std::string_view::npos ||
      d.front() == '-')
    return fail(Error::invalid("Invalid domain"));
  return std::string(d);
}

// Local part: quoted-string (unquoted into the result) or atext and dots in any order.
base::Result<std::string> parse_local(Cursor& c) {
  std::string out;
  if (c.at('"')) {
    c.next();
    for (;;) {
      if (c.done()) return fail(Error::invalid("Invalid quoted string in localpart"));
      unsigned char ch = c.peek();
      if (ch == '"') break;
      if (ch == '\\') {
        c.next();
        unsigned char q = c.peek();
        if (c.done() || q < 32 || q == 127) return fail(Error::invalid("Invalid quoted string in localpart"));
        out.push_back(static_cast<char>(q));
      } else if ((ch >= 32 && ch != 127) || ch >= 0x80) {
        out.push_back(static_cast<char>(ch));
      } else {
        return fail(Error::invalid("Invalid character in quoted localpart"));
      }
      c.next();
    }
    c.next();  // closing quote
    return out;
  }
  while (!c.done() && (is_atext(c.peek()) || c.at('.'))) {
    out.push_back(static_cast<char>(c.peek()));
    c.next();
  }
  if (out.empty()) return fail(Error::invalid("Invalid localpart"));
  return out;
}

base::Result<Address> parse_mailbox_at(Cursor& c, bool allow_no_domain) {
  Address a;
  auto local = parse_local(c);
  if (!local) return fail(std::move(local.error()));
  a.local = std::move(*local);
  if (c.at('@')) {
    c.next();
    auto domain = parse_domain(c);
    if (!domain) return fail(std::move(domain.error()));
    a.domain = std::move(*domain);
  } else if (!allow_no_domain) {
    return fail(Error::invalid("Missing domain"));
  }
  return a;
}

// RFC 5321 A-d-l: "@one,@two:" — obsolete, accepted and ignored (RFC 5321 4.1.2, C).
base::Status skip_source_route(Cursor& c) {
  while (c.at('@')) {
    c.next();
    auto d = parse_domain(c);
    if (!d) return fail(Error::invalid("Invalid source route"));
    if (c.at(',')) {
      c.next();
      if (!c.at('@')) return fail(Error::invalid("Invalid source route"));
      continue;
    }
    if (!c.at(':')) return fail(Error::invalid("Invalid source route"));
    c.next();
    return {};
  }
  return {};
}

}  // namespace

base::Result<ParsedPath> parse_path(std::string_view in) {
  Cursor c(in);
  ParsedPath p;
  if (!c.at('<')) return fail(Error::invalid("Missing '<' at beginning of path"));
  c.next();
  if (c.at('>')) {
    c.next();
    p.null_path = true;
    p.consumed = c.pos();
    return p;
  }
  if (auto s = skip_source_route(c); !s) return fail(std::move(s.error()));
  auto a = parse_mailbox_at(c, /*allow_no_domain=*/true);
  if (!a) {
    // Dovecot stops at the first octet that cannot continue the path and reports the
    // missing '>' (`<a b@x>`, `<aläce@x>` without UTF-8): same text here for the same input.
    if (c.done() || c.peek() == ' ' || c.peek() == '\t')
      return fail(Error::invalid("Missing '>' at end of path"));
    return fail(std::move(a.error()));
  }
  if (!c.at('>')) return fail(Error::invalid("Missing '>' at end of path"));
  c.next();
  p.address = std::move(*a);
  p.consumed = c.pos();
  return p;
}

base::Result<Address> parse_mailbox(std::string_view in) {
  Cursor c(in);
  auto a = parse_mailbox_at(c, /*allow_no_domain=*/false);
  if (!a) return a;
  if (!c.done()) return fail(Error::invalid("Invalid character after address"));
  return a;
}

}  // namespace dovetail::mail
