#include "userdb/sql_driver.hpp"

#include <charconv>

namespace dovetail::userdb {

std::string strip_maxconns(std::string_view connect, size_t* maxconns) {
  std::string out;
  size_t i = 0;
  while (i < connect.size()) {
    while (i < connect.size() && (connect[i] == ' ' || connect[i] == '\t')) ++i;
    size_t start = i;
    bool quoted = false;
    while (i < connect.size() && (quoted || (connect[i] != ' ' && connect[i] != '\t'))) {
      if (connect[i] == '\\' && i + 1 < connect.size()) ++i;
      else if (connect[i] == '\'') quoted = !quoted;
      ++i;
    }
    std::string_view word = connect.substr(start, i - start);
    if (word.empty()) break;
    if (word.starts_with("maxconns=")) {
      size_t n = 0;
      auto v = word.substr(9);
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec == std::errc() && ptr == v.data() + v.size() && n > 0 && maxconns) *maxconns = n;
      continue;
    }
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

base::Result<std::unique_ptr<Driver>> SqlDriver::create(Role role, std::string_view args) {
  std::string path(args);
  while (!path.empty() && (path.back() == ' ' || path.back() == '\t')) path.pop_back();
  while (!path.empty() && (path.front() == ' ' || path.front() == '\t')) path.erase(0, 1);
  if (path.empty()) return base::fail(base::Error::config("sql: args must name a dovecot-sql.conf.ext file"));
  auto config = read_sql_config(path);
  if (!config) return base::fail(config.error());
  return create(role, std::move(*config));
}

base::Result<std::unique_ptr<Driver>> SqlDriver::create(Role role, SqlConfig config) {
  std::unique_ptr<SqlDriver> d(new SqlDriver());
  d->role_ = role;
  if (config.driver == "sqlite") {
    std::string path = config.connect;
    d->factory_ = [path] { return make_sqlite_connection(path); };
  } else if (config.driver == "pgsql") {
    std::string conninfo = strip_maxconns(config.connect, &d->max_connections_);
    auto statement_timeout = config.lookup_timeout;
    d->factory_ = [conninfo, statement_timeout] { return make_pgsql_connection(conninfo, statement_timeout); };
  } else {
    return base::fail(base::Error::config("sql: unsupported driver '" + config.driver + "'"));
  }
  d->config_ = std::move(config);
  return std::unique_ptr<Driver>(std::move(d));
}

SqlDriver::~SqlDriver() = default;

std::unique_ptr<SqlConnection> SqlDriver::acquire(SqlDeadline deadline) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_until(lock, deadline, [&] { return !idle_.empty() || total_ < max_connections_; }))
    return nullptr;
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  ++total_;
  lock.unlock();
  return factory_();
}

void SqlDriver::release(std::unique_ptr<SqlConnection> conn) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

base::Result<std::vector<Fields>> SqlDriver::run(SqlConnection& conn, const LookupRequest& request,
                                                 SqlDeadline deadline) {
  if (auto st = conn.connect(deadline); !st) return base::fail(st.error());
  // Escape every value first: a value the backend cannot quote names no user.
  base::VarTable vars = lookup_vars(request.user, request.service, "");
  for (auto& v : vars) {
    auto escaped = conn.escape(v.value);
    if (!escaped) {
      if (escaped.error().kind == base::ErrorKind::kInvalidInput)
        return base::fail(base::Error::not_found("sql: " + escaped.error().message));
      return base::fail(escaped.error());
    }
    v.value = std::move(*escaped);
  }
  const std::string& tmpl = role_ == Role::kUserdb ? config_.user_query : config_.password_query;
  auto sql = expand(tmpl, vars);
  if (!sql) return base::fail(sql.error());
  return conn.query(*sql, 2, deadline);
}

base::Result<Fields> SqlDriver::lookup(const LookupRequest& request) {
  const SqlDeadline deadline = std::chrono::steady_clock::now() + config_.lookup_timeout;
  auto conn = acquire(deadline);
  if (!conn) {
    return base::fail(base::Error::temporary("sql: no free connection (maxconns=" + std::to_string(max_connections_) +
                                             ") within the lookup deadline"));
  }
  bool was_connected = conn->connected();
  auto rows = run(*conn, request, deadline);
  if (!rows && was_connected && rows.error().kind == base::ErrorKind::kTemporary &&
      !conn->connected() && std::chrono::steady_clock::now() < deadline) {
    // A pooled connection may have died while idle (server restart): one fresh attempt.
    rows = run(*conn, request, deadline);
  }
  release(std::move(conn));
  if (!rows) return base::fail(rows.error());
  if (rows->empty()) return base::fail(base::Error::not_found("sql: unknown user " + request.user));
  if (role_ == Role::kPassdb && rows->size() > 1)
    return base::fail(base::Error::temporary("sql: password_query returned multiple rows for " + request.user));
  Fields fields = std::move(rows->front());
  if (role_ == Role::kPassdb) {
    for (auto& [key, value] : fields)
      if (key == "password" && !value.empty() && value.front() != '{')
        value = "{" + config_.default_pass_scheme + "}" + value;
  }
  return fields;
}

}  // namespace dovetail::userdb
