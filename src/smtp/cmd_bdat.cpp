// BDAT (RFC 3030 CHUNKING): exactly <size> octets follow the command line, whatever the
// reply, so a refused chunk is read and dropped, never parsed as commands.
#include "smtp/command_line.hpp"
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

namespace {

bool parse_size(std::string_view s, uint64_t& v) {
  if (s.empty() || s.size() > 19) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

}  // namespace

void ServerSession::Impl::cmd_bdat(std::string_view args) {
  size_t sp = args.find(' ');
  std::string_view size_text = args.substr(0, sp);
  std::string_view end_text = sp == std::string_view::npos ? std::string_view{} : args.substr(sp + 1);
  uint64_t size = 0;
  if (!parse_size(size_text, size)) {
    // The chunk length is unknown: nothing can be skipped. The octets that follow are
    // read as commands, as in Dovecot.
    chunk_failed = true;
    reply(501, "5.5.4", "Invalid chunk size parameter");
    return;
  }
  bool last = false;
  if (!end_text.empty()) {
    if (!starts_with_nocase(end_text, "LAST") || end_text.size() != 4) {
      chunk_failed = true;
      reply(501, "5.5.4", "Invalid end parameter");
      return;
    }
    last = true;
  }
  chunk_size = size;
  chunk_remaining = size;
  chunk_last = last;
  if (auto r = data_command_refusal(/*is_bdat=*/true)) {
    chunk_fate = ChunkFate::kDiscard;
    chunk_refusal = *r;
  } else {
    chunk_fate = ChunkFate::kStore;
    if (!bdat_started) {
      bdat_started = true;
      begin_body();
      chunk_decoder.start();
    }
  }
  mode = Mode::kBdat;
  if (chunk_remaining == 0) finish_chunk();
}

}  // namespace dovetail::smtp
