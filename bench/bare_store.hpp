// bare_store.hpp — what bench/null_lmtp --store keeps: a message body, and the durable chain.
//
// Purpose: the barest durable LMTP server (bench/null_lmtp --store) measures this machine's
// ceiling for durable delivery. Its storing half lives here: Body collects the raw DATA
// octets in 4096-aligned memory (so bodies from 16 KiB on reach O_DIRECT without another
// copy), and past SpoolPolicy::over octets moves them on to an anonymous spool file, 64 KiB
// at a time, as Dovetail's spool does past 256 KiB. MaildirStore::store runs the chain
// Dovetail's writer runs: an O_TMPFILE file in new/, the octets written (O_DIRECT for whole
// blocks from 16 KiB, the tail buffered; a spooled body read back 256 KiB at a time), fsync,
// linked into every recipient's new/, each new/ fsynced.
// Not a mail server: no user lookup, no headers, no dot-unstuffing. Mailboxes are named
// "domain/local" and live in ROOT/domain/local/Maildir, as bench/run's generated config puts
// them; the caller keeps both parts to [A-Za-z0-9._-] and never starting with a dot.
// Depends on: std + POSIX (Linux: O_TMPFILE, O_DIRECT). Threading: MaildirStore::store is
// thread-safe; a Body belongs to one thread at a time.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace dovetail::bench {

struct SpoolPolicy {
  size_t over = 0;  // octets kept in memory before spooling; 0: never spool
  std::string dir;  // where the anonymous spool files are made
};

class Body {
 public:
  explicit Body(const SpoolPolicy* policy = nullptr) : policy_(policy) {}
  Body(Body&& other) noexcept;
  Body& operator=(Body&& other) noexcept;
  ~Body();

  void append(const char* p, size_t n);
  // Drops the last n octets (the end marker), wherever they are.
  void drop_tail(size_t n);
  // Empties it for the next message; the memory's capacity stays.
  void clear();
  size_t size() const { return spooled_ + size_; }

 private:
  friend class MaildirStore;
  struct Free {
    void operator()(char* p) const;
  };
  void spill();
  void drop_spool();

  const SpoolPolicy* policy_;
  std::unique_ptr<char, Free> data_;
  size_t size_ = 0;  // octets in memory (after the spooled ones)
  size_t capacity_ = 0;
  int spool_fd_ = -1;
  size_t spooled_ = 0;
};

class MaildirStore {
 public:
  explicit MaildirStore(std::string root) : root_(std::move(root)) {}
  ~MaildirStore();
  MaildirStore(const MaildirStore&) = delete;
  MaildirStore& operator=(const MaildirStore&) = delete;

  // The durable chain for one message into every mailbox; false on any failure.
  bool store(const std::vector<std::string>& mailboxes, const Body& body);

 private:
  int new_dir(const std::string& mailbox);  // kept open for the store's lifetime

  std::string root_;
  std::mutex mutex_;
  std::unordered_map<std::string, int> new_dirs_;
  std::atomic<unsigned long> seq_{0};
};

}  // namespace dovetail::bench
