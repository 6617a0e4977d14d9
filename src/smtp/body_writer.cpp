#include "smtp/body_writer.hpp"

namespace dovetail::smtp {

namespace {
constexpr size_t kBatch = 64 * 1024;
}

void BodyWriter::start(mail::Spool* spool, uint64_t max_size) {
  spool_ = spool;
  max_ = max_size;
  batch_.clear();
  octets_ = 0;
  too_big_ = false;
  failed_ = false;
}

void BodyWriter::append(std::string_view stored, uint64_t wire_extra) {
  octets_ += stored.size() + wire_extra;
  if (too_big_ || failed_) return;
  if (max_ != 0 && octets_ > max_) {
    too_big_ = true;
    batch_.clear();
    batch_.shrink_to_fit();
    if (spool_ != nullptr) spool_->clear();
    return;
  }
  batch_.append(stored);
  if (batch_.size() >= kBatch) flush();
}

void BodyWriter::append_line(std::string_view text) {
  if (too_big_ || failed_ || (max_ != 0 && octets_ + text.size() + 2 > max_)) {
    append(text);
    append("\n", /*wire_extra=*/1);
    return;
  }
  octets_ += text.size() + 2;
  batch_.append(text).push_back('\n');
  if (batch_.size() >= kBatch) flush();
}

void BodyWriter::flush() {
  if (batch_.empty() || spool_ == nullptr) return;
  if (auto s = spool_->append(batch_); !s) failed_ = true;
  batch_.clear();
}

void BodyWriter::finish() {
  if (too_big_ || failed_) {
    batch_.clear();
    if (spool_ != nullptr) spool_->clear();
    return;
  }
  flush();
  if (spool_ != nullptr && !failed_) {
    if (auto s = spool_->finish(); !s) failed_ = true;
  }
}

}  // namespace dovetail::smtp
