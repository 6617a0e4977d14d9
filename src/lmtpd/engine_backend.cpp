#include "lmtpd/engine_backend.hpp"

#include "base/log.hpp"
#include "deliver/engine_factory.hpp"
#include "deliver/transaction.hpp"

namespace dovetail::lmtpd {
namespace {

class EngineBackend final : public DeliveryBackend {
 public:
  explicit EngineBackend(std::shared_ptr<const deliver::Engine> engine) : txn_(std::move(engine)) {}
  std::optional<deliver::Outcome> check_recipient(const mail::Envelope& env, const mail::Recipient& rcpt) override {
    return txn_.add_recipient(env, rcpt);
  }
  deliver::RecipientCheck check_recipient_now(const mail::Envelope& env, const mail::Recipient& rcpt) override {
    return txn_.add_recipient_now(env, rcpt);
  }
  std::vector<deliver::Outcome> deliver(const mail::Envelope& env, const mail::Spool& spool) override {
    return txn_.deliver(env, spool);
  }
  std::unique_ptr<deliver::DeliveryInFlight> deliver_begin(const mail::Envelope& env,
                                                           const mail::Spool& spool) override {
    return txn_.deliver_begin(env, spool);
  }
  void reset() override { txn_.reset(); }

 private:
  deliver::Transaction txn_;
};

// No engine for this snapshot (its userdb could not be built): temporary failure, never 5xx.
class NoEngineBackend final : public DeliveryBackend {
 public:
  std::optional<deliver::Outcome> check_recipient(const mail::Envelope&, const mail::Recipient&) override {
    return deliver::lookup_failed();
  }
  std::vector<deliver::Outcome> deliver(const mail::Envelope& env, const mail::Spool&) override {
    return std::vector<deliver::Outcome>(env.recipients.size(), deliver::lookup_failed());
  }
};

}  // namespace

base::Result<std::shared_ptr<const deliver::Engine>> EngineBackends::engine_for(
    const config::SettingsPtr& settings) {
  std::lock_guard lock(mutex_);
  auto it = engines_.find(settings.get());
  if (it != engines_.end()) return it->second.second;
  auto engine = deliver::make_engine(settings, "lmtp", limiter_, store_, store_begin_);
  if (!engine) return base::fail(engine.error());
  if (!limiter_) limiter_ = (*engine)->limiter();
  engines_[settings.get()] = {settings, *engine};
  return *engine;
}

std::unique_ptr<DeliveryBackend> EngineBackends::make(const config::SettingsPtr& settings) {
  auto engine = engine_for(settings);
  if (!engine) {
    base::log::error("lmtp: ", "delivery engine unavailable: " + engine.error().message);
    return std::make_unique<NoEngineBackend>();
  }
  return std::make_unique<EngineBackend>(std::move(*engine));
}

void EngineBackends::set_store(deliver::EngineDeps::StoreFn store, deliver::EngineDeps::StoreBeginFn store_begin) {
  std::lock_guard lock(mutex_);
  store_ = std::move(store);
  store_begin_ = std::move(store_begin);
  engines_.clear();
}

void EngineBackends::forget_all() {
  std::lock_guard lock(mutex_);
  engines_.clear();
}

}  // namespace dovetail::lmtpd
