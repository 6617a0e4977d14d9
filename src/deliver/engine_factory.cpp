#include "deliver/engine_factory.hpp"

namespace dovetail::deliver {
namespace {

userdb::DbSpec spec_of(const config::AuthDb& db) {
  return {db.driver,         db.args,           db.default_fields, db.override_fields, db.skip,
          db.result_success, db.result_failure, db.result_internalfail};
}

}  // namespace

userdb::UserDbConfig userdb_config(const config::Settings& settings, const std::string& service) {
  userdb::UserDbConfig out;
  for (const auto& db : settings.passdbs) out.passdbs.push_back(spec_of(db));
  for (const auto& db : settings.userdbs) out.userdbs.push_back(spec_of(db));
  out.service = service;
  return out;
}

base::Result<std::shared_ptr<const Engine>> make_engine(config::SettingsPtr settings,
                                                        const std::string& service,
                                                        std::shared_ptr<ConcurrencyLimiter> limiter,
                                                        EngineDeps::StoreFn store,
                                                        EngineDeps::StoreBeginFn store_begin) {
  if (!settings) return base::fail(base::Error::internal("make_engine: no settings"));
  auto db = userdb::UserDb::create(userdb_config(*settings, service));
  if (!db) return base::fail(db.error());
  std::shared_ptr<const userdb::UserDb> shared_db(std::move(*db));
  EngineDeps deps;
  deps.lookup_user = [shared_db](std::string_view key) { return shared_db->lookup_user(key); };
  deps.lookup_user_now = [shared_db](std::string_view key) { return shared_db->lookup_user_now(key); };
  deps.lookup_pass = [shared_db](std::string_view key) { return shared_db->lookup_pass(key); };
  deps.service = service;
  deps.store = std::move(store);
  deps.store_begin = std::move(store_begin);
  deps.limiter = std::move(limiter);  // the process's one limiter; each call names its limit
  auto engine = Engine::create(std::move(settings), std::move(deps));
  if (!engine) return base::fail(engine.error());
  return std::shared_ptr<const Engine>(std::move(*engine));
}

}  // namespace dovetail::deliver
