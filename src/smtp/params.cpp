#include "smtp/params.hpp"

#include <string>
#include <vector>

#include "mail/address.hpp"
#include "mail/xtext.hpp"

namespace dovetail::smtp {
namespace {

struct Param {
  std::string keyword;  // upper-cased
  std::string_view value;
  bool has_value = false;
};

Reply err501(std::string text) { return Reply{501, "5.5.4", std::move(text)}; }
Reply unsupported() { return Reply{555, "5.5.4", "Unsupported parameters"}; }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return out;
}

bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5321 4.1.2 esmtp-value, extended by RFC 6531 3.3 with UTF8-non-ascii (Dovetail
// offers SMTPUTF8; Dovecot does not and refuses non-ASCII octets here).
bool is_esmtp_value_char(unsigned char c) { return (c >= 33 && c <= 126 && c != '=') || c >= 0x80; }

// esmtp-param = esmtp-keyword ["=" esmtp-value], one SP apart. As Dovecot: the text is split
// at every single SP (so two SPs make an empty parameter), an empty value ("BODY=") is the
// command's business, and syntax errors read "Invalid <MAIL|RCPT> parameter: <why>".
std::optional<Reply> split(std::string_view text, std::string_view command, std::vector<Param>& out) {
  if (text.empty()) return std::nullopt;
  auto invalid = [&](std::string_view why) {
    return err501("Invalid " + std::string(command) + " parameter: " + std::string(why));
  };
  for (;;) {
    size_t sp = text.find(' ');
    std::string_view tok = text.substr(0, sp);
    if (tok.empty()) return invalid("Parameter is empty");
    size_t i = 0;
    if (!is_alnum(static_cast<unsigned char>(tok[0]))) return invalid("Unexpected character in parameter keyword");
    while (i < tok.size() && (is_alnum(static_cast<unsigned char>(tok[i])) || tok[i] == '-')) ++i;
    Param p;
    p.keyword = upper(tok.substr(0, i));
    if (i < tok.size()) {
      if (tok[i] != '=') return invalid("Unexpected character in parameter keyword");
      p.has_value = true;
      p.value = tok.substr(i + 1);
      for (char c : p.value)
        if (!is_esmtp_value_char(static_cast<unsigned char>(c)))
          return invalid("Unexpected character in parameter value");
    }
    out.push_back(std::move(p));
    if (sp == std::string_view::npos) return std::nullopt;
    text.remove_prefix(sp + 1);
  }
}

bool seen(std::vector<std::string>& done, const std::string& kw) {
  for (const auto& d : done)
    if (d == kw) return true;
  done.push_back(kw);
  return false;
}

Reply duplicate(const std::string& kw) { return err501("Duplicate " + kw + "= parameter"); }

}  // namespace

std::optional<Reply> parse_mail_params(std::string_view params, uint64_t max_mail_size,
                                       mail::MailParams& out) {
  std::vector<Param> list;
  if (auto e = split(params, "MAIL", list)) return e;
  std::vector<std::string> done;
  for (const auto& p : list) {
    if (p.keyword == "SIZE" && max_mail_size != 0) {
      if (seen(done, p.keyword)) return duplicate(p.keyword);
      if (!p.has_value || p.value.size() > 20) return err501("Invalid SIZE= parameter");
      uint64_t v = 0;
      for (char c : p.value) {
        if (c < '0' || c > '9') return err501("Invalid SIZE= parameter");
        uint64_t d = static_cast<uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return err501("Invalid SIZE= parameter");
        v = v * 10 + d;
      }
      out.size = v;
    } else if (p.keyword == "BODY") {
      if (seen(done, p.keyword)) return duplicate(p.keyword);
      if (!p.has_value) return err501("Missing BODY= parameter value");
      std::string v = upper(p.value);
      if (v != "7BIT" && v != "8BITMIME") return Reply{555, "5.5.4", "Unsupported mail BODY type"};
      out.body = v;
    } else if (p.keyword == "RET") {
      if (seen(done, p.keyword)) return duplicate(p.keyword);
      std::string v = upper(p.value);
      if (!p.has_value || (v != "FULL" && v != "HDRS")) return err501("Unsupported RET= parameter keyword");
      out.ret = v;
    } else if (p.keyword == "ENVID") {
      if (seen(done, p.keyword)) return duplicate(p.keyword);
      if (!p.has_value) return err501("Invalid ENVID= parameter: Empty value");
      auto d = mail::xtext_decode(p.value);
      if (!d) return err501("Invalid ENVID= parameter: " + d.error().message);
      for (char c : *d)
        if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126)
          return err501("Invalid ENVID= parameter: Invalid character in value");
      out.envid = std::move(*d);
    } else if (p.keyword == "SMTPUTF8") {
      if (seen(done, p.keyword)) return duplicate(p.keyword);
      if (p.has_value) return err501("Unexpected value for SMTPUTF8 parameter");
      out.smtputf8 = true;
    } else {
      return unsupported();
    }
  }
  if (out.size && max_mail_size != 0 && *out.size > max_mail_size)
    return Reply{552, "5.3.4", "Message size exceeds fixed maximum message size"};
  return std::nullopt;
}

namespace {

std::optional<Reply> parse_notify(std::string_view v) {
  bool never = false;
  size_t count = 0;
  size_t i = 0;
  while (i <= v.size()) {
    size_t comma = v.find(',', i);
    if (comma == std::string_view::npos) comma = v.size();
    std::string kw = upper(v.substr(i, comma - i));
    if (kw == "NEVER") {
      never = true;
    } else if (kw != "SUCCESS" && kw != "FAILURE" && kw != "DELAY") {
      return err501("Unsupported NOTIFY= parameter keyword");
    }
    ++count;
    i = comma + 1;
  }
  if (never && count > 1) return err501("Invalid NOTIFY= parameter: NEVER used with other keywords");
  return std::nullopt;
}

std::optional<Reply> parse_orcpt(std::string_view v, mail::Recipient& out) {
  size_t semi = v.find(';');
  if (semi == std::string_view::npos || semi == 0) return err501("Invalid addr-type for ORCPT= parameter");
  std::string type = upper(v.substr(0, semi));
  for (char c : type)
    if (!is_alnum(static_cast<unsigned char>(c)) && c != '-') return err501("Invalid addr-type for ORCPT= parameter");
  std::string_view enc = v.substr(semi + 1);
  if (enc.empty()) return err501("Invalid ORCPT= parameter: Empty address value");
  bool utf8 = type == "UTF-8";
  auto d = utf8 ? mail::utf8_addr_xtext_decode(enc) : mail::xtext_decode(enc);
  if (!d) return err501("Invalid ORCPT= parameter: " + d.error().message);
  if (type != "RFC822" && !utf8) return std::nullopt;  // not a mail address: keep nothing
  auto a = mail::parse_mailbox(*d);
  if (!a) return err501("Invalid ORCPT= parameter: " + a.error().message);
  out.orcpt = a->to_string();
  return std::nullopt;
}

}  // namespace

std::optional<Reply> parse_rcpt_params(std::string_view params, mail::Recipient& out) {
  std::vector<Param> list;
  if (auto e = split(params, "RCPT", list)) return e;
  std::vector<std::string> done;
  for (const auto& p : list) {
    if (p.keyword == "NOTIFY") {
      if (seen(done, p.keyword)) return duplicate(p.keyword);
      if (!p.has_value) return err501("Missing NOTIFY= parameter value");
      if (auto e = parse_notify(p.value)) return e;
      out.notify = std::string(p.value);
    } else if (p.keyword == "ORCPT") {
      if (seen(done, p.keyword)) return duplicate(p.keyword);
      if (!p.has_value) return err501("Missing ORCPT= parameter value");
      if (auto e = parse_orcpt(p.value, out)) return e;
    } else {
      return unsupported();
    }
  }
  return std::nullopt;
}

}  // namespace dovetail::smtp
