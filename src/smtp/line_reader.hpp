// line_reader.hpp — splits command input into lines with a hard length limit.
//
// Purpose: RFC 5321 4.5.3.1.4 (command line limit). A line whose content (without CRLF) is
// longer than the limit is reported once as kTooLong and the rest of it is skipped without
// being buffered, so a 1 MiB line costs no memory and gets a single reply. CRLF and bare LF
// both end a line (Dovecot accepts bare LF on command lines).
// Depends on: std only. Error contract: none (events). Threading: one per session.
#pragma once

#include <cstddef>
#include <string_view>

namespace dovetail::smtp {

class LineReader {
 public:
  enum class Kind { kNeedMore, kLine, kTooLong };
  struct Event {
    Kind kind = Kind::kNeedMore;
    std::string_view line;  // without CR/LF; points into the buffer given to next()
  };

  explicit LineReader(size_t max_length) : max_(max_length) {}

  // Consumes from buf[pos...]; advances pos past what was used.
  Event next(std::string_view buf, size_t& pos);
  bool mid_line() const { return skipping_; }

 private:
  size_t max_;
  bool skipping_ = false;  // inside an overlong line already answered
};

}  // namespace dovetail::smtp
