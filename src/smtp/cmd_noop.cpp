// NOOP (RFC 5321 4.1.1.9): an optional String argument, checked as Dovecot checks it.
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

bool parse_smtp_string(std::string_view in, std::string& out, std::string& error) {
  out.clear();
  if (!in.empty() && in.front() == '"') {
    size_t i = 1;
    for (; i < in.size() && in[i] != '"'; ++i) {
      if (in[i] == '\\') {
        if (++i == in.size()) break;
      }
      out.push_back(in[i]);
    }
    if (i >= in.size() || i + 1 != in.size()) {
      error = "Invalid character in string";
      return false;
    }
    return true;
  }
  for (char c : in) {
    auto u = static_cast<unsigned char>(c);
    bool atext = u >= 0x80 || (u > 32 && u < 127 && c != '(' && c != ')' && c != '<' && c != '>' &&
                               c != '[' && c != ']' && c != ':' && c != ';' && c != '@' &&
                               c != '\\' && c != ',' && c != '"');
    if (!atext && c != '.') {
      error = "Invalid character in string";
      return false;
    }
  }
  out = std::string(in);
  return true;
}

void ServerSession::Impl::cmd_noop(std::string_view args) {
  std::string value, error;
  if (!args.empty() && !parse_smtp_string(args, value, error)) {
    reply(501, "5.5.4", "Invalid string parameter: " + error);
    return;
  }
  reply(250, "2.0.0", "OK");
}

}  // namespace dovetail::smtp
