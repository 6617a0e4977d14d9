#include "mail/xtext.hpp"

namespace dovetail::mail {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;  // RFC says upper case; be liberal
  return -1;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

base::Result<std::string> decode(std::string_view in, bool unitext) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '+') {
      if (i + 2 >= in.size()) {
        return base::fail(base::Error::invalid("Invalid hexchar after '+' in xtext"));
      }
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return base::fail(base::Error::invalid("Invalid hexchar after '+' in xtext"));
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (unitext && c == '\\' && i + 1 < in.size() && in[i + 1] == 'x') {
      size_t close = in.find('}', i);
      if (i + 2 >= in.size() || in[i + 2] != '{' || close == std::string_view::npos || close - i - 3 < 1 ||
          close - i - 3 > 6)
        return base::fail(base::Error::invalid("Invalid \\x{HEX} escape in utf-8-addr-xtext"));
      unsigned long cp = 0;
      for (size_t k = i + 3; k < close; ++k) {
        int v = hex_value(in[k]);
        if (v < 0) return base::fail(base::Error::invalid("Invalid \\x{HEX} escape in utf-8-addr-xtext"));
        cp = cp * 16 + static_cast<unsigned long>(v);
      }
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return base::fail(base::Error::invalid("Invalid \\x{HEX} escape in utf-8-addr-xtext"));
      append_utf8(out, cp);
      i = close;
    } else if (c >= 33 && c <= 126 && c != '=') {
      out.push_back(static_cast<char>(c));
    } else if (unitext && c >= 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      return base::fail(base::Error::invalid("Invalid character in xtext"));
    }
  }
  return out;
}

}  // namespace

base::Result<std::string> xtext_decode(std::string_view in) { return decode(in, false); }
base::Result<std::string> utf8_addr_xtext_decode(std::string_view in) { return decode(in, true); }

}  // namespace dovetail::mail
