// blocking_pool.hpp — threads for work that blocks (write, fsync, rename, userdb lookups).
//
// Purpose: keep event threads free; many fsyncs in flight at once (Maildir delivery is
// fsync-bound, so the pool is deliberately much larger than the core count).
// Depends on: std only (Asio behind pimpl). Error contract: jobs must not throw; a job that
// throws is caught and logged as a bug. Threading: submit() is thread-safe.
#pragma once

#include <functional>
#include <memory>

namespace dovetail::net {

class BlockingPool {
 public:
  explicit BlockingPool(unsigned threads);
  ~BlockingPool();  // waits for queued jobs
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void submit(std::function<void()> job);
  unsigned threads() const { return threads_; }
  void join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned threads_;
};

}  // namespace dovetail::net
