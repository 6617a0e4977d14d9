// concurrency_limiter.hpp — lmtp_user_concurrency_limit: deliveries in flight per user.
//
// Purpose: one counter per user for the whole process, counted across all connections and
// worker threads. The process has ONE limiter; the limit is an argument of each call, so the
// engines of different settings snapshots (a SIGHUP reload that changes the limit, a
// local/remote filter with its own limit) share the counts instead of starting from zero. A slot is taken at RCPT and held by a Token until the transaction ends
// (the token lives in the resolved recipient; dropping it releases the slot). When the
// limit is reached the RCPT gets `451 4.3.0 <rcpt> Too many concurrent deliveries for user`.
// Depends on: std only. Error contract: try_acquire() returns an empty optional when full.
// Threading: thread-safe (one mutex; the critical section is a map lookup). Tokens may be
// released on any thread. The limiter must outlive its tokens (tokens hold a shared_ptr).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace dovetail::deliver {

class ConcurrencyLimiter : public std::enable_shared_from_this<ConcurrencyLimiter> {
 public:
  class Token {
   public:
    Token() = default;
    Token(Token&& other) noexcept;
    Token& operator=(Token&& other) noexcept;
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;
    ~Token();
    void release();  // early release; idempotent

   private:
    friend class ConcurrencyLimiter;
    Token(std::shared_ptr<ConcurrencyLimiter> owner, std::string user)
        : owner_(std::move(owner)), user_(std::move(user)) {}
    std::shared_ptr<ConcurrencyLimiter> owner_;
    std::string user_;
  };

  static std::shared_ptr<ConcurrencyLimiter> create();

  // Takes a slot unless `user` already holds `limit` (or more, after the limit was lowered).
  // limit 0 = unlimited: the slot is still counted, so a later, lower limit sees it.
  [[nodiscard]] std::optional<Token> try_acquire(const std::string& user, unsigned limit);
  size_t in_flight(const std::string& user) const;

 private:
  ConcurrencyLimiter() = default;
  void release(const std::string& user);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, size_t> counts_;
};

}  // namespace dovetail::deliver
