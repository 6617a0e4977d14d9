// engine_setup.hpp — one way to build an Engine from settings, shared by lmtpd, the LDA and
// the privileged writer (so that all three resolve users identically).
//
// Purpose: converts the config's passdb {} / userdb {} blocks into a userdb::UserDb and wires
// its lookup into EngineDeps. The UserDb lives as long as the engine (captured shared_ptr).
// Depends on: userdb, config/settings.hpp (decision 0002). Error contract: kConfig for a
// userdb that cannot be built (unknown driver, unreadable SQL config).
// Threading: the returned engine is thread-safe (see engine.hpp).
#pragma once

#include <memory>
#include <string>

#include "base/result.hpp"
#include "config/settings.hpp"
#include "deliver/concurrency_limiter.hpp"
#include "deliver/engine.hpp"
#include "userdb/user_db.hpp"

namespace dovetail::deliver {

userdb::UserDbConfig userdb_config_from(const config::Settings& settings, const std::string& service);

[[nodiscard]] base::Result<std::shared_ptr<const userdb::UserDb>> make_userdb(const config::Settings& settings,
                                                                               const std::string& service);

[[nodiscard]] base::Result<std::unique_ptr<Engine>> make_engine(config::SettingsPtr settings,
                                                                std::shared_ptr<ConcurrencyLimiter> limiter,
                                                                const std::string& service);

}  // namespace dovetail::deliver
