#include "smtp/data_reader.hpp"

#include <cstring>

namespace dovetail::smtp {

namespace {
constexpr std::string_view kLf = "\n";

// From a line start: stores the whole lines of in[i...] that end in CRLF and neither start
// with a dot nor hold a CR, straight into the writer's batch (one memchr and one memcpy
// per line, no per-line call). Returns the octets used; 0 = the first line needs the state
// machine.
size_t bulk_lines(std::string_view in, size_t i, BodyWriter& out) {
  const char* p = in.data() + i;
  const char* const end = in.data() + in.size();
  const char* const start = p;
  const std::span<char> room = out.room(static_cast<size_t>(end - p));
  char* d = room.data();
  char* const room_end = d + room.size();
  while (p < end && *p != '.') {
    const auto* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<size_t>(end - p)));
    if (cr == nullptr || cr + 1 == end || cr[1] != '\n') break;
    const auto len = static_cast<size_t>(cr - p);
    if (len + 1 > static_cast<size_t>(room_end - d)) break;
    std::memcpy(d, p, len);
    d[len] = '\n';
    d += len + 1;
    p = cr + 2;
  }
  out.commit(static_cast<size_t>(d - room.data()), static_cast<uint64_t>(p - start));
  return static_cast<size_t>(p - start);
}

}  // namespace

void DataReader::start() { state_ = State::kLineStart; }

size_t DataReader::consume(std::string_view in, BodyWriter& out) {
  size_t i = 0;
  const size_t n = in.size();
  while (i < n && state_ != State::kDone) {
    char c = in[i];
    switch (state_) {
      case State::kLineStart:
        if (c == '.') {
          state_ = State::kDot;
          ++i;
          break;
        }
        if (size_t used = bulk_lines(in, i, out); used > 0) {
          i += used;
          break;
        }
        state_ = State::kMid;
        [[fallthrough]];
      case State::kMid: {
        // Fast path: copy the run up to the next CR in one append, and when the LF of a CRLF
        // is already here, the line's end with it (one append per line, not two).
        size_t cr = in.find('\r', i);
        if (cr != std::string_view::npos && cr + 1 < n && in[cr + 1] == '\n') {
          out.append_line(in.substr(i, cr - i));
          state_ = State::kLineStart;
          i = cr + 2;
          break;
        }
        size_t end = cr == std::string_view::npos ? n : cr;
        if (end > i) out.append(in.substr(i, end - i));
        i = end;
        if (i < n) {
          state_ = State::kCr;
          ++i;
        }
        break;
      }
      case State::kCr:
        if (c == '\n') {
          out.append(kLf, /*wire_extra=*/1);  // CRLF stored as LF
          state_ = State::kLineStart;
          ++i;
        } else if (c == '\r') {
          out.append("\r");  // the earlier CR was bare; this one may start a CRLF
          ++i;
        } else {
          out.append("\r");
          state_ = State::kMid;
        }
        break;
      case State::kDot:
        // RFC 5321 4.5.2: the leading dot of a line is removed.
        if (c == '\r') {
          state_ = State::kDotCr;
          ++i;
        } else {
          state_ = State::kMid;
        }
        break;
      case State::kDotCr:
        if (c == '\n') {
          state_ = State::kDone;
          ++i;
        } else {
          state_ = State::kCr;  // ".\r" + x: dot removed, the CR is body
        }
        break;
      case State::kDone:
        break;
    }
  }
  return i;
}

void ChunkDecoder::decode(std::string_view chunk, BodyWriter& out) {
  size_t i = 0;
  const size_t n = chunk.size();
  if (pending_cr_ && n > 0) {
    pending_cr_ = false;
    if (chunk[0] == '\n') {
      out.append(kLf, /*wire_extra=*/1);  // CRLF stored as LF
      i = 1;
    } else {
      out.append("\r");
    }
  }
  while (i < n) {
    size_t cr = chunk.find('\r', i);
    if (cr == std::string_view::npos) {
      out.append(chunk.substr(i));
      return;
    }
    if (cr > i) out.append(chunk.substr(i, cr - i));
    if (cr + 1 == n) {
      pending_cr_ = true;
      return;
    }
    if (chunk[cr + 1] == '\n') {
      out.append(kLf, /*wire_extra=*/1);  // CRLF stored as LF
      i = cr + 2;
    } else {
      out.append("\r");
      i = cr + 1;
    }
  }
}

void ChunkDecoder::end(BodyWriter& out) {
  if (pending_cr_) out.append("\r");
  pending_cr_ = false;
}

}  // namespace dovetail::smtp
