// data_reader.hpp — the DATA body decoder (RFC 5321 4.1.1.4 and 4.5.2).
//
// Purpose: removes dot-stuffing, stores CRLF as LF (Dovecot stores LF line endings), stores
// bare LF, bare CR, NUL and 8-bit octets verbatim, and ends the body only at <CRLF>.<CRLF>
// (Dovecot also ends it at <LF>.<LF>; COMPAT.md marks that a weakness). The "." line and its
// CRLF are not part of the body; the CRLF before it is. No line length limit inside DATA.
// Depends on: smtp/body_writer.hpp. Error contract: none; every byte sequence is a body.
// Threading: one per session.
#pragma once

#include <cstddef>
#include <string_view>

#include "smtp/body_writer.hpp"

namespace dovetail::smtp {

class DataReader {
 public:
  void start();
  // Consumes from `in` up to and including the terminating <CRLF>.<CRLF>; returns the
  // number of octets used. done() is true once the terminator has been consumed.
  size_t consume(std::string_view in, BodyWriter& out);
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State { kLineStart, kMid, kCr, kDot, kDotCr, kDone };
  State state_ = State::kLineStart;
};

// BDAT chunks (RFC 3030) carry the message without dot-stuffing; CRLF is stored as LF like
// DATA, also when the CR and LF arrive in different chunks.
class ChunkDecoder {
 public:
  void start() { pending_cr_ = false; }
  void decode(std::string_view chunk, BodyWriter& out);
  void end(BodyWriter& out);  // after BDAT LAST: a trailing CR is stored verbatim

 private:
  bool pending_cr_ = false;
};

}  // namespace dovetail::smtp
