#include "smtp/body_writer.hpp"

#include <algorithm>
#include <cstring>

namespace dovetail::smtp {

namespace {
constexpr size_t kBatch = 64 * 1024;      // flushed into the spool from this size on
constexpr size_t kCapacity = 2 * kBatch;  // room for one more read's worth before a flush
}  // namespace

void BodyWriter::start(mail::Spool* spool, uint64_t max_size) {
  spool_ = spool;
  max_ = max_size;
  if (!batch_) batch_ = std::make_unique_for_overwrite<char[]>(kCapacity);
  batch_len_ = 0;
  octets_ = 0;
  too_big_ = false;
  failed_ = false;
}

void BodyWriter::put(std::string_view stored) {
  if (stored.empty()) return;
  if (batch_len_ + stored.size() > kCapacity) flush();
  if (stored.size() > kCapacity) {  // larger than any batch: straight to the spool
    if (spool_ != nullptr) {
      if (auto s = spool_->append(stored); !s) failed_ = true;
    }
    return;
  }
  std::memcpy(batch_.get() + batch_len_, stored.data(), stored.size());
  batch_len_ += stored.size();
  if (batch_len_ >= kBatch) flush();
}

void BodyWriter::append(std::string_view stored, uint64_t wire_extra) {
  octets_ += stored.size() + wire_extra;
  if (too_big_ || failed_) return;
  if (max_ != 0 && octets_ > max_) {
    too_big_ = true;
    batch_len_ = 0;
    if (spool_ != nullptr) spool_->clear();
    return;
  }
  put(stored);
}

void BodyWriter::append_line(std::string_view text) {
  if (too_big_ || failed_ || (max_ != 0 && octets_ + text.size() + 2 > max_) || text.size() + 1 > kCapacity) {
    append(text);
    append("\n", /*wire_extra=*/1);
    return;
  }
  octets_ += text.size() + 2;
  if (batch_len_ + text.size() + 1 > kCapacity) flush();
  char* out = batch_.get() + batch_len_;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\n';
  batch_len_ += text.size() + 1;
  if (batch_len_ >= kBatch) flush();
}

std::span<char> BodyWriter::room(size_t want) {
  if (batch_len_ >= kBatch) flush();
  return {batch_.get() + batch_len_, std::min(want, kCapacity - batch_len_)};
}

void BodyWriter::commit(size_t used, uint64_t wire) {
  if (too_big_ || failed_ || (max_ != 0 && octets_ + wire > max_)) {
    // The limit's bookkeeping, as if appended piecewise: nothing of it is kept.
    append(std::string_view(batch_.get() + batch_len_, used), wire - used);
    return;
  }
  octets_ += wire;
  batch_len_ += used;
  if (batch_len_ >= kBatch) flush();
}

void BodyWriter::flush() {
  if (batch_len_ == 0) return;
  if (spool_ != nullptr) {
    if (auto s = spool_->append({batch_.get(), batch_len_}); !s) failed_ = true;
  }
  batch_len_ = 0;
}

void BodyWriter::finish() {
  if (too_big_ || failed_) {
    batch_len_ = 0;
    if (spool_ != nullptr) spool_->clear();
    return;
  }
  flush();
  if (spool_ != nullptr && !failed_) {
    if (auto s = spool_->finish(); !s) failed_ = true;
  }
}

}  // namespace dovetail::smtp
