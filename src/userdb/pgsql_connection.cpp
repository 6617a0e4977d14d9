// PostgreSQL (libpq) backend of SqlConnection. The calling worker thread waits, but never
// past the lookup's deadline: connecting uses PQconnectStart/PQconnectPoll and queries
// PQsendQuery/PQconsumeInput, each wait a poll() bounded by the deadline (one connection
// attempt also by kSqlConnectTimeout, Dovecot's 5 s). A query that misses the deadline drops
// the connection (its state is unknown); statement_timeout makes the server give up too.
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "userdb/sql_config.hpp"
#include "userdb/sql_connection.hpp"

namespace dovetail::userdb {
namespace {

void ignore_notice(void*, const char*) {}

enum class Ready { kYes, kTimedOut, kError };

// Waits until `fd` has `events` or `deadline` passes.
Ready wait_socket(int fd, short events, SqlDeadline deadline) {
  if (fd < 0) return Ready::kError;
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Ready::kTimedOut;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    if (n > 0) return Ready::kYes;
    if (n < 0 && errno != EINTR) return Ready::kError;
  }
}

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (auto& c : out)
    if (c == '\n') c = ' ';
  return out;
}

class PgsqlConnection final : public SqlConnection {
 public:
  PgsqlConnection(std::string conninfo, std::chrono::milliseconds statement_timeout)
      : conninfo_(std::move(conninfo)), statement_timeout_(statement_timeout) {}
  ~PgsqlConnection() override { disconnect(); }

  base::Status connect(SqlDeadline deadline) override {
    if (connected()) return {};
    disconnect();
    const SqlDeadline attempt_end = std::min(deadline, std::chrono::steady_clock::now() + kSqlConnectTimeout);
    PGconn* conn = PQconnectStart(conninfo_.c_str());
    if (conn == nullptr) return base::fail(base::Error::temporary("pgsql: out of memory"));
    auto give_up = [&](const std::string& why) {
      std::string msg = why.empty() ? trimmed(PQerrorMessage(conn)) : why;
      PQfinish(conn);
      return base::fail(base::Error::temporary("pgsql: connect failed: " + msg));
    };
    if (PQstatus(conn) == CONNECTION_BAD) return give_up("");
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
      if (st == PGRES_POLLING_FAILED) return give_up("");
      Ready r = wait_socket(PQsocket(conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, attempt_end);
      if (r == Ready::kTimedOut) return give_up("timed out");
      if (r == Ready::kError) return give_up("poll() failed");
      st = PQconnectPoll(conn);
    }
    PQsetNoticeProcessor(conn, ignore_notice, nullptr);
    conn_ = conn;
    auto set = exec("SET statement_timeout = " + std::to_string(std::max<int64_t>(statement_timeout_.count(), 1)),
                    0, deadline);
    if (!set) {
      disconnect();
      return base::fail(set.error());
    }
    return {};
  }

  bool connected() const override { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

  void disconnect() override {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
  }

  base::Result<std::string> escape(std::string_view value) override {
    if (!conn_) return base::fail(base::Error::temporary("pgsql: not connected"));
    if (value.find('\0') != std::string_view::npos)
      return base::fail(base::Error::invalid("NUL byte in SQL value"));
    std::string out(value.size() * 2 + 1, '\0');
    int err = 0;
    size_t n = PQescapeStringConn(conn_, out.data(), value.data(), value.size(), &err);
    if (err != 0)
      return base::fail(base::Error::invalid("pgsql: cannot escape value: " + trimmed(PQerrorMessage(conn_))));
    out.resize(n);
    return out;
  }

  base::Result<std::vector<Fields>> query(const std::string& sql, size_t max_rows,
                                          SqlDeadline deadline) override {
    auto r = exec(sql, max_rows, deadline);
    if (!r) return base::fail(r.error());
    if (!r->had_rows) return base::fail(base::Error::temporary("pgsql: query returned no result set"));
    return std::move(r->rows);
  }

 private:
  struct Executed {
    std::vector<Fields> rows;  // of the last result that had rows
    bool had_rows = false;
  };

  // Sends `sql` (several statements allowed) and reads every result by `deadline`.
  base::Result<Executed> exec(const std::string& sql, size_t max_rows, SqlDeadline deadline) {
    if (!conn_) return base::fail(base::Error::temporary("pgsql: not connected"));
    if (PQsendQuery(conn_, sql.c_str()) != 1) return failed("query failed: " + trimmed(PQerrorMessage(conn_)));
    Executed out;
    std::string error;
    for (;;) {
      while (PQisBusy(conn_) == 1) {
        Ready r = wait_socket(PQsocket(conn_), POLLIN, deadline);
        if (r == Ready::kTimedOut) {
          disconnect();  // mid-query: the connection cannot be reused
          return base::fail(base::Error::temporary("pgsql: query timed out (SQL lookup deadline)"));
        }
        if (r == Ready::kError || PQconsumeInput(conn_) != 1)
          return failed("query failed: " + trimmed(PQerrorMessage(conn_)));
      }
      PGresult* res = PQgetResult(conn_);
      if (res == nullptr) break;
      ExecStatusType status = PQresultStatus(res);
      if (status == PGRES_TUPLES_OK) {
        out.rows = rows_of(res, max_rows);
        out.had_rows = true;
      } else if (status != PGRES_COMMAND_OK && error.empty()) {
        error = trimmed(PQresultErrorMessage(res));
      }
      PQclear(res);
    }
    if (!error.empty()) return failed("query failed: " + error);
    return out;
  }

  static std::vector<Fields> rows_of(PGresult* res, size_t max_rows) {
    std::vector<Fields> rows;
    int ntuples = PQntuples(res), nfields = PQnfields(res);
    for (int r = 0; r < ntuples && rows.size() < max_rows; ++r) {
      Fields row;
      for (int c = 0; c < nfields; ++c) {
        if (PQgetisnull(res, r, c)) continue;
        row.emplace_back(PQfname(res, c),
                         std::string(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c))));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  base::Unexpected<base::Error> failed(const std::string& msg) {
    if (PQstatus(conn_) != CONNECTION_OK) disconnect();
    return base::fail(base::Error::temporary("pgsql: " + msg));
  }

  std::string conninfo_;
  std::chrono::milliseconds statement_timeout_;
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<SqlConnection> make_pgsql_connection(std::string conninfo,
                                                     std::chrono::milliseconds statement_timeout) {
  return std::make_unique<PgsqlConnection>(std::move(conninfo), statement_timeout);
}

}  // namespace dovetail::userdb
