#include "deliver/engine_setup.hpp"

namespace dovetail::deliver {

userdb::UserDbConfig userdb_config_from(const config::Settings& settings, const std::string& service) {
  userdb::UserDbConfig out;
  auto convert = [](const config::AuthDb& db) {
    return userdb::DbSpec{db.driver, db.args, db.default_fields, db.override_fields};
  };
  for (const auto& db : settings.passdbs) out.passdbs.push_back(convert(db));
  for (const auto& db : settings.userdbs) out.userdbs.push_back(convert(db));
  out.service = service;
  return out;
}

base::Result<std::shared_ptr<const userdb::UserDb>> make_userdb(const config::Settings& settings,
                                                                  const std::string& service) {
  auto db = userdb::UserDb::create(userdb_config_from(settings, service));
  if (!db) return base::fail(db.error());
  return std::shared_ptr<const userdb::UserDb>(std::move(*db));
}

base::Result<std::unique_ptr<Engine>> make_engine(config::SettingsPtr settings,
                                                  std::shared_ptr<ConcurrencyLimiter> limiter,
                                                  const std::string& service) {
  auto db = make_userdb(*settings, service);
  if (!db) return base::fail(db.error());
  EngineDeps deps;
  deps.lookup_user = [db = *db](std::string_view key) { return db->lookup_user(key); };
  deps.limiter = std::move(limiter);
  deps.service = service;
  return Engine::create(std::move(settings), std::move(deps));
}

}  // namespace dovetail::deliver
