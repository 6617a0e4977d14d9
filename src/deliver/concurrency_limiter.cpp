#include "deliver/concurrency_limiter.hpp"

namespace dovetail::deliver {

ConcurrencyLimiter::Token::Token(Token&& other) noexcept
    : owner_(std::move(other.owner_)), user_(std::move(other.user_)) {
  other.owner_.reset();
}

ConcurrencyLimiter::Token& ConcurrencyLimiter::Token::operator=(Token&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::move(other.owner_);
    user_ = std::move(other.user_);
    other.owner_.reset();
  }
  return *this;
}

ConcurrencyLimiter::Token::~Token() { release(); }

void ConcurrencyLimiter::Token::release() {
  if (owner_) {
    owner_->release(user_);
    owner_.reset();
  }
}

std::shared_ptr<ConcurrencyLimiter> ConcurrencyLimiter::create() {
  return std::shared_ptr<ConcurrencyLimiter>(new ConcurrencyLimiter());
}

std::optional<ConcurrencyLimiter::Token> ConcurrencyLimiter::try_acquire(const std::string& user, unsigned limit) {
  std::lock_guard lock(mutex_);
  size_t& count = counts_[user];
  if (limit != 0 && count >= limit) {
    if (count == 0) counts_.erase(user);
    return std::nullopt;
  }
  ++count;
  return Token(shared_from_this(), user);
}

size_t ConcurrencyLimiter::in_flight(const std::string& user) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(user);
  return it == counts_.end() ? 0 : it->second;
}

void ConcurrencyLimiter::release(const std::string& user) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(user);
  if (it == counts_.end()) return;
  // Erase at zero so a long-running daemon does not keep one entry per user ever seen.
  if (--it->second == 0) counts_.erase(it);
}

}  // namespace dovetail::deliver
