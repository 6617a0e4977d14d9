#include "deliver/message_info.hpp"

#include <strings.h>

#include <algorithm>
#include <optional>

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

std::string_view line_at(std::string_view block, size_t pos, size_t* next) {
  size_t eol = block.find('\n', pos);
  if (eol == std::string_view::npos) eol = block.size();
  *next = eol + 1;
  std::string_view line = block.substr(pos, eol - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::optional<std::string> find_header(std::string_view block, std::string_view name) {
  size_t pos = 0;
  while (pos < block.size()) {
    size_t next = 0;
    std::string_view line = line_at(block, pos, &next);
    if (line.empty()) break;  // end of the header block
    if (name_is(line, name)) {
      std::string value(trim(line.substr(name.size() + 1)));
      // Unfold (RFC 5322 2.2.3): continuation lines start with SP or HTAB.
      while (next < block.size() && (block[next] == ' ' || block[next] == '\t')) {
        std::string_view cont = trim(line_at(block, next, &next));
        if (!value.empty() && !cont.empty()) value += ' ';
        value += cont;
      }
      return value;
    }
    pos = next;
  }
  return std::nullopt;
}

}  // namespace

std::string sanitize(std::string_view value, size_t max_len) {
  const bool cut = value.size() > max_len;
  std::string out(value.substr(0, max_len));
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  if (cut) out += "...";
  return out;
}

std::string first_header(std::string_view header_block, std::string_view name) {
  return find_header(header_block, name).value_or("");
}

std::string first_address(std::string_view value) {
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

MessageInfo scan_message_info(std::string_view block) {
  MessageInfo info;
  auto id = find_header(block, "Message-ID");
  info.message_id = id && !id->empty() ? sanitize(*id, 200) : "unspecified";
  info.subject = sanitize(first_header(block, "Subject"), 80);
  info.from = sanitize(first_address(first_header(block, "From")), 80);
  return info;
}

std::string_view read_header_block(const mail::Spool& spool, std::string& storage) {
  if (spool.in_memory()) {
    std::string_view mem = spool.memory();
    return mem.substr(0, std::min(mem.size(), kHeaderScanLimit));
  }
  std::string& buf = storage;
  buf.assign(std::min<uint64_t>(spool.size(), kHeaderScanLimit), '\0');
  size_t have = 0;
  while (have < buf.size()) {
    auto n = spool.read_at(have, buf.data() + have, buf.size() - have);
    if (!n || *n == 0) break;
    have += *n;
  }
  buf.resize(have);
  return buf;
}

}  // namespace dovetail::deliver
