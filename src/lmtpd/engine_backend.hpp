// engine_backend.hpp — DeliveryBackend over the delivery engine (src/deliver).
//
// Purpose: the production backend: deliver::Transaction per connection (userdb lookup and
// per-user slot at RCPT, Maildir store after DATA). Engines are built once per settings
// snapshot (building one opens the userdb) and shared by every connection using that
// snapshot; the per-user concurrency counts survive a reload (the limiter is handed on).
// Depends on: deliver, config. Error contract: engine_for() gives kConfig for an unusable
// userdb/engine setting; make() never fails — without an engine every recipient gets
// 451 4.3.0 and the reason is logged once per snapshot.
// Threading: all methods thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "base/result.hpp"
#include "config/settings.hpp"
#include "deliver/engine.hpp"
#include "lmtpd/delivery_backend.hpp"

namespace dovetail::lmtpd {

class EngineBackends {
 public:
  [[nodiscard]] base::Result<std::shared_ptr<const deliver::Engine>> engine_for(
      const config::SettingsPtr& settings);
  std::unique_ptr<DeliveryBackend> make(const config::SettingsPtr& settings);
  // After a reload: snapshots of the new config get new engines; old connections keep theirs.
  void forget_all();
  // Multi-uid mode: saves go to the privileged writer (privsep) instead of this process.
  void set_store(deliver::EngineDeps::StoreFn store, deliver::EngineDeps::StoreBeginFn store_begin = nullptr);

 private:
  std::mutex mutex_;
  std::map<const config::Settings*, std::pair<config::SettingsPtr, std::shared_ptr<const deliver::Engine>>> engines_;
  std::shared_ptr<deliver::ConcurrencyLimiter> limiter_;
  deliver::EngineDeps::StoreFn store_;
  deliver::EngineDeps::StoreBeginFn store_begin_;
};

}  // namespace dovetail::lmtpd
