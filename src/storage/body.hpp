// body.hpp — the message body as the writer needs it: bytes in memory or a file to copy from.
//
// Purpose: decouples the Maildir writer from how the body was received. body_of() uses only
// mail::Spool's inline accessors, so storage needs no Spool implementation to build, and the
// privsep helper (issue 5), which receives the body as an fd, builds a Body directly.
// Contract: when `fd >= 0` the body is octets [0, size) of that file, read with pread /
// copy_file_range (the fd's offset is never used); otherwise `memory` holds exactly `size`
// octets. `line_feeds` = LFs that are not preceded by CR, so W = S + line_feeds exactly as
// Dovecot counts the virtual size (the spool stores LF endings; a CR LF pair can survive
// only from a `\r\r\n` on the wire, and it is already two octets in W).
// Depends on: mail (spool.hpp). Threading: a view; the spool must outlive it.
#pragma once

#include <cstdint>
#include <string_view>

#include "mail/spool.hpp"

namespace dovetail::storage {

struct Body {
  std::string_view memory;
  int fd = -1;
  uint64_t size = 0;
  uint64_t line_feeds = 0;
};

inline Body body_of(const mail::Spool& spool) {
  Body b;
  if (spool.in_memory()) {
    b.memory = spool.memory();
  } else {
    b.fd = spool.fd();
  }
  b.size = spool.size();
  b.line_feeds = spool.line_feeds();
  return b;
}

}  // namespace dovetail::storage
