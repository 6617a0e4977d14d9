#include "smtp/line_reader.hpp"

namespace dovetail::smtp {

LineReader::Event LineReader::next(std::string_view buf, size_t& pos) {
  for (;;) {
    if (pos >= buf.size()) return {};
    std::string_view rest = buf.substr(pos);
    size_t nl = rest.find('\n');
    if (skipping_) {
      if (nl == std::string_view::npos) {
        pos = buf.size();
        return {};
      }
      pos += nl + 1;
      skipping_ = false;
      continue;
    }
    if (nl == std::string_view::npos) {
      // +1: the CR of a line of exactly max octets may already be here.
      if (rest.size() > max_ + 1) {
        skipping_ = true;
        pos = buf.size();
        return {Kind::kTooLong, {}};
      }
      return {};
    }
    std::string_view line = rest.substr(0, nl);
    pos += nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max_) return {Kind::kTooLong, {}};
    return {Kind::kLine, line};
  }
}

}  // namespace dovetail::smtp
