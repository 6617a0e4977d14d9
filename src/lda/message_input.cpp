#include "lda/message_input.hpp"

#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace dovetail::lda {

base::Status read_message(int fd, mail::Spool& spool) {
  std::string buf(64 * 1024, '\0');
  std::string out;
  bool pending_cr = false;  // a CR whose successor we have not seen yet
  auto emit = [&](char c) {
    if (pending_cr && c != '\n') out.push_back('\r');
    pending_cr = c == '\r';
    if (!pending_cr) out.push_back(c);
  };
  bool in_first_line = true;
  std::string first_line;  // held back until we know whether it is an mbox "From " line
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::fail(base::Error::from_errno(errno, "reading the message"));
    out.clear();
    for (char c : std::string_view(buf.data(), static_cast<size_t>(n))) {
      if (!in_first_line) {
        emit(c);
        continue;
      }
      first_line.push_back(c);
      // Decide as soon as the prefix tells; an endless first line is never held in memory.
      bool maybe_from = std::string_view("From ").starts_with(first_line) || first_line.starts_with("From ");
      if (c != '\n' && maybe_from && first_line.size() < 64 * 1024) continue;
      in_first_line = false;
      if (!(c == '\n' && first_line.starts_with("From "))) for (char h : first_line) emit(h);
    }
    if (n == 0) {
      if (in_first_line) for (char h : first_line) emit(h);  // a message without any newline
      if (pending_cr) out.push_back('\r');
    }
    if (!out.empty()) {
      auto st = spool.append(out);
      if (!st) return st;
    }
    if (n == 0) break;
  }
  return spool.finish();
}

std::string return_path_of(const mail::Spool& spool) {
  char buf[8192];
  auto got = spool.read_at(0, buf, sizeof(buf));
  if (!got) return "";
  std::string_view head(buf, *got);
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find('\n', pos);
    std::string_view line = head.substr(pos, eol == std::string_view::npos ? head.size() - pos : eol - pos);
    if (line.empty()) break;  // end of the header
    if (line.size() > 12 && (line.substr(0, 12) == "Return-Path:" || line.substr(0, 12) == "return-path:")) {
      auto lt = line.find('<'), gt = line.rfind('>');
      if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt)
        return std::string(line.substr(lt + 1, gt - lt - 1));
      return "";
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return "";
}

}  // namespace dovetail::lda
