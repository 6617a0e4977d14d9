// sql_driver.hpp — the `sql` passdb/userdb driver (dovecot-sql.conf.ext; sqlite, pgsql).
//
// Purpose: args = path of a dovecot-sql.conf.ext file (sql_config.hpp). Userdb role runs
// user_query, passdb role password_query (first row wins for user_query; more than one row
// for password_query is a temporary failure, as Dovecot refuses ambiguous passdb answers).
// Result columns become fields by name (uid, gid, home, mail, quota_rule, userdb_*, proxy,
// host, port, ...); NULL columns are left out. A `password` without {SCHEME} gets
// default_pass_scheme.
// Query variables (%u %n %d %s) are escaped with the backend's string quoting before they are
// substituted, so a query that puts them inside '...' (as Dovecot requires) cannot be
// injected into. Values containing NUL are refused (user not found).
//
// Depends on: base, userdb/sql_connection. Error contract (driver.hpp): no row → kNotFound;
// connect/query failure → kTemporary. Threading: a pool of connections (pgsql: maxconns=N in
// connect, default 5; sqlite: 5) guarded by a mutex; a lookup borrows one connection.
// A dropped connection is re-established on the next lookup, and a query that fails because
// the connection died is retried once on a fresh connection (lookups are read-only).
// Each lookup has a deadline (SqlConfig::lookup_timeout, 30 s): waiting for a free pooled
// connection, connecting and querying all end by it, with a temporary failure.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "userdb/driver.hpp"
#include "userdb/sql_config.hpp"
#include "userdb/sql_connection.hpp"

namespace dovetail::userdb {

class SqlDriver final : public Driver {
 public:
  using ConnectionFactory = std::function<std::unique_ptr<SqlConnection>()>;

  [[nodiscard]] static base::Result<std::unique_ptr<Driver>> create(Role role,
                                                                    std::string_view args);
  // For tests and callers that already hold a parsed config.
  [[nodiscard]] static base::Result<std::unique_ptr<Driver>> create(Role role, SqlConfig config);
  ~SqlDriver() override;

  [[nodiscard]] base::Result<Fields> lookup(const LookupRequest& request) override;

 private:
  SqlDriver() = default;
  std::unique_ptr<SqlConnection> acquire(SqlDeadline deadline);  // nullptr: none free in time
  void release(std::unique_ptr<SqlConnection> conn);
  base::Result<std::vector<Fields>> run(SqlConnection& conn, const LookupRequest& request,
                                        SqlDeadline deadline);

  Role role_ = Role::kUserdb;
  SqlConfig config_;
  ConnectionFactory factory_;
  size_t max_connections_ = 5;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;
  size_t total_ = 0;  // idle + borrowed
};

// Splits Dovecot's "maxconns=N" out of a pgsql connect string; returns the libpq part.
std::string strip_maxconns(std::string_view connect, size_t* maxconns);

}  // namespace dovetail::userdb
