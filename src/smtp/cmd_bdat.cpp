// BDAT (RFC 3030 CHUNKING): exactly <size> octets follow the command line, whatever the
// reply, so a refused chunk is read and dropped, never parsed as commands. Only when the
// size itself cannot be parsed are the following octets read as commands (nothing else is
// possible), as in Dovecot.
#include <vector>

#include "smtp/command_line.hpp"
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

namespace {

// Dovecot's str_to_uoff(): one or more digits, no sign, no overflow.
bool parse_size(std::string_view s, uint64_t& v) {
  if (s.empty()) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  return true;
}

// Split at every single SP, keeping empty fields ("6  LAST" has three), like Dovecot's
// t_strsplit(); an empty string has no fields.
std::vector<std::string_view> split_sp(std::string_view s) {
  std::vector<std::string_view> out;
  if (s.empty()) return out;
  for (;;) {
    size_t sp = s.find(' ');
    out.push_back(s.substr(0, sp));
    if (sp == std::string_view::npos) return out;
    s.remove_prefix(sp + 1);
  }
}

}  // namespace

void ServerSession::Impl::cmd_bdat(std::string_view args) {
  auto argv = split_sp(args);
  uint64_t size = 0;
  if (argv.empty() || !parse_size(argv[0], size)) {
    chunk_failed = true;
    reply(501, "5.5.4", "Invalid chunk size parameter");
    return;
  }
  bool last = false;
  std::optional<Reply> syntax_error;
  if (argv.size() > 2) {
    syntax_error = Reply{501, "5.5.4", "Invalid parameters"};
  } else if (argv.size() == 2) {
    if (starts_with_nocase(argv[1], "LAST") && argv[1].size() == 4) {
      last = true;
    } else {
      syntax_error = Reply{501, "5.5.4", "Invalid end marker parameter"};
    }
  }
  chunk_size = size;
  chunk_remaining = size;
  chunk_last = last;
  if (syntax_error) {
    // Answered now; the declared octets are still data and are skipped silently.
    reply(*syntax_error);
    chunk_failed = true;
    if (size == 0) return;
    chunk_fate = ChunkFate::kDiscard;
    chunk_refusal = Reply{0, "", ""};
    mode = Mode::kBdat;
    return;
  }
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
