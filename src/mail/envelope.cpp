#include "mail/envelope.hpp"

#include "mail/address.hpp"

namespace dovetail::mail {

// Dovecot's rendering: a dot-string local part as is, anything else as a quoted string
// (RFC 5321 4.1.2 Quoted-string), so `"alice"@x` -> alice@x and
// `alice+../../evil@x` -> "alice+../../evil"@x.
std::string Address::to_string() const {
  std::string out;
  out.reserve(local.size() + 3 + domain.size());  // one allocation (quotes, '@'), escapes aside
  if (is_dot_string(local)) {
    out = local;
  } else {
    out.push_back('"');
    for (char ch : local) {
      if (ch == '"' || ch == '\\') out.push_back('\\');
      out.push_back(ch);
    }
    out.push_back('"');
  }
  if (!domain.empty()) {
    out.push_back('@');
    out += domain;
  }
  return out;
}

}  // namespace dovetail::mail
