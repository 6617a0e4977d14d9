// spool.hpp — one message body on its way to disk: memory up to a limit, then an unlinked
// temp file, so a 1 GiB message never sits in RAM.
//
// Purpose: the smtp DATA/BDAT readers append the decoded body (dot-unstuffed, CRLF turned
// into LF as Dovecot stores it); storage copies it into each Maildir file; the privsep
// helper receives it as an fd (see fd_for_reading()).
// Error contract: every I/O failure is a Result error (kind kTemporary with errno).
// Lifetime/threading: owned by one transaction; not thread-safe; read-only once finish()ed.
// Security: the temp file is created O_TMPFILE (or unlinked at once) mode 0600 in temp_dir.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace dovetail::mail {

class Spool {
 public:
  Spool(uint64_t memory_limit, std::string temp_dir);
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  Spool(Spool&&) noexcept = default;
  Spool& operator=(Spool&&) noexcept = default;

  // Appends body bytes exactly as they will be stored (LF line endings).
  [[nodiscard]] base::Status append(std::string_view bytes);
  // No more appends; flushes a file-backed spool.
  [[nodiscard]] base::Status finish();

  uint64_t size() const { return size_; }          // octets stored (the maildir S=)
  // LFs not preceded by CR (storage/body.hpp): S + line_feeds = CRLF size (W=). A stored
  // "\r\n" (left by "\r\r\n" on the wire) already is CRLF and adds nothing to W=.
  uint64_t line_feeds() const { return lfs_; }
  bool in_memory() const { return !fd_.valid(); }
  std::string_view memory() const { return memory_; }  // valid only when in_memory()
  int fd() const { return fd_.get(); }                 // valid only when !in_memory()

  // Reads up to out.size() bytes at offset; works for both backings. 0 = end.
  [[nodiscard]] base::Result<size_t> read_at(uint64_t offset, char* out, size_t len) const;

  // Drops everything (transaction aborted); the spool may be reused.
  void clear();

 private:
  [[nodiscard]] base::Status spill();

  uint64_t memory_limit_;
  std::string temp_dir_;
  std::string memory_;
  base::UniqueFd fd_;
  uint64_t size_ = 0;
  uint64_t lfs_ = 0;
  bool last_cr_ = false;  // the last appended octet was CR (a CRLF may span two appends)
};

}  // namespace dovetail::mail
