#include "deliver/message_info.hpp"

#include <strings.h>

#include <algorithm>

namespace dovetail::deliver {
namespace {

bool name_is(std::string_view line, std::string_view name) {
  return line.size() > name.size() && line[name.size()] == ':' &&
         strncasecmp(line.data(), name.data(), name.size()) == 0;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}

// "Name <a@b>" → "a@b"; "a@b (Comment)" → "a@b". Good enough for a log line.
std::string from_address(std::string_view value) {
  size_t lt = value.find('<');
  if (lt != std::string_view::npos) {
    size_t gt = value.find('>', lt);
    if (gt != std::string_view::npos) return std::string(trim(value.substr(lt + 1, gt - lt - 1)));
  }
  size_t paren = value.find('(');
  if (paren != std::string_view::npos) value = value.substr(0, paren);
  size_t comma = value.find(',');
  if (comma != std::string_view::npos) value = value.substr(0, comma);
  return std::string(trim(value));
}

}  // namespace

std::string sanitize(std::string_view value, size_t max_len) {
  std::string out;
  out.reserve(std::min(value.size(), max_len + 3));
  for (char c : value) {
    if (out.size() >= max_len) {
      out += "...";
      return out;
    }
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out;
}

MessageInfo scan_message_info(std::string_view block) {
  MessageInfo info;
  bool have_id = false, have_subject = false, have_from = false;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t eol = block.find('\n', pos);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    // Unfold: continuation lines start with SP or HTAB.
    std::string value;
    size_t next = eol + 1;
    while (next < block.size() && (block[next] == ' ' || block[next] == '\t')) {
      size_t e = block.find('\n', next);
      if (e == std::string_view::npos) e = block.size();
      std::string_view cont = block.substr(next, e - next);
      if (!cont.empty() && cont.back() == '\r') cont.remove_suffix(1);
      value += ' ';
      value += trim(cont);
      next = e + 1;
    }
    auto field = [&](std::string_view name) {
      return std::string(trim(line.substr(name.size() + 1))) + value;
    };
    if (!have_id && name_is(line, "Message-ID")) {
      info.message_id = sanitize(trim(field("Message-ID")), 200);
      have_id = true;
    } else if (!have_subject && name_is(line, "Subject")) {
      info.subject = sanitize(trim(field("Subject")), 80);
      have_subject = true;
    } else if (!have_from && name_is(line, "From")) {
      info.from = sanitize(from_address(field("From")), 80);
      have_from = true;
    }
    pos = next;
  }
  if (info.message_id.empty()) info.message_id = "unspecified";
  return info;
}

MessageInfo scan_message_info(const mail::Spool& spool) {
  if (spool.in_memory()) {
    std::string_view mem = spool.memory();
    return scan_message_info(mem.substr(0, std::min(mem.size(), kHeaderScanLimit)));
  }
  std::string buf(kHeaderScanLimit, '\0');
  size_t have = 0;
  while (have < buf.size()) {
    auto n = spool.read_at(have, buf.data() + have, buf.size() - have);
    if (!n || *n == 0) break;
    have += *n;
  }
  buf.resize(have);
  return scan_message_info(buf);
}

}  // namespace dovetail::deliver
