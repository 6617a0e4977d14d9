// engine_factory.hpp — build the production Engine from one settings snapshot.
//
// Purpose: the one place that wires config's passdb/userdb blocks into a userdb::UserDb and
// that into an Engine, so lmtpd and the LDA construct the engine identically. Build one per
// settings snapshot (not per connection: UserDb::create reads files/opens databases) and
// share it; pass the process's one limiter (the first engine's) to every later engine — after a
// reload and for every filter snapshot — so in-flight counts are shared whatever each limit is.
// Depends on: deliver/engine.hpp, userdb, config/settings.hpp (decision 0002).
// Error contract: kConfig when a userdb/passdb block or an engine setting is unusable.
// Threading: create once on any thread; the Engine is then shared read-only.
#pragma once

#include <memory>
#include <string>

#include "base/result.hpp"
#include "config/settings.hpp"
#include "deliver/engine.hpp"
#include "userdb/user_db.hpp"

namespace dovetail::deliver {

userdb::UserDbConfig userdb_config(const config::Settings& settings, const std::string& service);

[[nodiscard]] base::Result<std::shared_ptr<const Engine>> make_engine(
    config::SettingsPtr settings, const std::string& service,
    std::shared_ptr<ConcurrencyLimiter> limiter = nullptr, EngineDeps::StoreFn store = nullptr,
    EngineDeps::StoreBeginFn store_begin = nullptr);

}  // namespace dovetail::deliver
