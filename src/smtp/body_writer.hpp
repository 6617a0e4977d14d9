// body_writer.hpp — the sink DATA and BDAT decoders write the stored message into.
//
// Purpose: batches small appends into the Spool, enforces the SIZE limit (RFC 1870) on the
// message octets as sent (CRLF counted as two), and once the limit is passed stores nothing
// more and empties the spool, so an oversized message never reaches memory or disk.
// Depends on: mail/spool.hpp. Error contract: a spool I/O error is remembered (failed()),
// later appends are dropped; the session answers 451 per recipient.
// Threading: one per session.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "mail/spool.hpp"

namespace dovetail::smtp {

class BodyWriter {
 public:
  void start(mail::Spool* spool, uint64_t max_size);  // max_size 0 = unlimited
  // `stored` is appended as is; `wire_extra` octets were on the wire but are not stored
  // (the CR of a CRLF stored as LF).
  void append(std::string_view stored, uint64_t wire_extra = 0);
  // A line whose CRLF arrived whole: `text` then the stored LF (CRLF counted as two octets).
  void append_line(std::string_view text);
  // The decoders' bulk path: free room at the end of the batch (at most `want` octets; a
  // full batch is flushed first), filled by the caller and handed over with commit() before
  // any other call.
  std::span<char> room(size_t want);
  // `used` octets of that room are now the message's; they were `wire` octets on the wire.
  void commit(size_t used, uint64_t wire);
  void finish();  // flush the batch into the spool and finish() it

  uint64_t octets() const { return octets_; }
  bool too_big() const { return too_big_; }
  bool failed() const { return failed_; }

 private:
  void flush();
  void put(std::string_view stored);

  mail::Spool* spool_ = nullptr;
  // Not a std::string: room() hands out uninitialised space, a resize() would zero it first.
  std::unique_ptr<char[]> batch_;
  size_t batch_len_ = 0;
  uint64_t max_ = 0;
  uint64_t octets_ = 0;
  bool too_big_ = false;
  bool failed_ = false;
};

}  // namespace dovetail::smtp
