// sql_connection.hpp — one connection to an SQL backend, used by one thread at a time.
//
// Purpose: the seam between the SQL driver (query templates, pooling, retry) and the
// client libraries (sqlite3, libpq). Implementations: sqlite_connection.hpp,
// pgsql_connection.hpp.
// Depends on: base, userdb/fields. Error contract: every failure is kTemporary except
// escape() of a value the backend cannot represent (kInvalidInput). After a failure,
// connected() tells whether the connection is still usable (false = reconnect needed).
// connect() and query() return (kTemporary) by `deadline` at the latest: a query still
// running then is abandoned (pgsql: the connection is dropped; sqlite: interrupted).
// Threading: not thread-safe; the pool hands a connection to one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "userdb/fields.hpp"

namespace dovetail::userdb {

using SqlDeadline = std::chrono::steady_clock::time_point;

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  [[nodiscard]] virtual base::Status connect(SqlDeadline deadline) = 0;  // (re)open; no-op when connected
  virtual bool connected() const = 0;
  virtual void disconnect() = 0;
  // Quotes `value` for use inside '...' in a query (Dovecot's escaping).
  [[nodiscard]] virtual base::Result<std::string> escape(std::string_view value) = 0;
  // Runs `sql`; returns at most `max_rows` rows, each as (column, value) with NULLs left out.
  [[nodiscard]] virtual base::Result<std::vector<Fields>> query(const std::string& sql, size_t max_rows,
                                                                SqlDeadline deadline) = 0;
};

// driver "sqlite": `connect` is the database file (never created). driver "pgsql": `connect`
// is a libpq conninfo string; Dovecot's maxconns=N is honoured by the caller.
// `statement_timeout` (pgsql) is set on each new connection so the server abandons a
// query nobody waits for any more.
std::unique_ptr<SqlConnection> make_sqlite_connection(std::string path);
std::unique_ptr<SqlConnection> make_pgsql_connection(std::string conninfo,
                                                     std::chrono::milliseconds statement_timeout);

}  // namespace dovetail::userdb
