// PostgreSQL (libpq) backend of SqlConnection. Blocking calls: the worker thread waits.
// connect_timeout=5 is added unless the conninfo sets it, so a silent server cannot hold
// a worker for the OS TCP timeout.
#include <libpq-fe.h>

#include "userdb/sql_connection.hpp"

namespace dovetail::userdb {
namespace {

void ignore_notice(void*, const char*) {}

class PgsqlConnection final : public SqlConnection {
 public:
  explicit PgsqlConnection(std::string conninfo) : conninfo_(std::move(conninfo)) {
    if (conninfo_.find("connect_timeout") == std::string::npos) conninfo_ += " connect_timeout=5";
  }
  ~PgsqlConnection() override { disconnect(); }

  base::Status connect() override {
    if (connected()) return {};
    disconnect();
    PGconn* conn = PQconnectdb(conninfo_.c_str());
    if (conn == nullptr) return base::fail(base::Error::temporary("pgsql: out of memory"));
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string msg = trimmed(PQerrorMessage(conn));
      PQfinish(conn);
      return base::fail(base::Error::temporary("pgsql: connect failed: " + msg));
    }
    PQsetNoticeProcessor(conn, ignore_notice, nullptr);
    conn_ = conn;
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

  base::Result<std::vector<Fields>> query(const std::string& sql, size_t max_rows) override {
    if (!conn_) return base::fail(base::Error::temporary("pgsql: not connected"));
    PGresult* res = PQexec(conn_, sql.c_str());
    if (res == nullptr || PQresultStatus(res) != PGRES_TUPLES_OK) {
      std::string msg = res ? trimmed(PQresultErrorMessage(res)) : trimmed(PQerrorMessage(conn_));
      PQclear(res);
      if (PQstatus(conn_) != CONNECTION_OK) disconnect();
      return base::fail(base::Error::temporary("pgsql: query failed: " + msg));
    }
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
    PQclear(res);
    return rows;
  }

 private:
  static std::string trimmed(const char* s) {
    std::string out = s ? s : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    for (auto& c : out)
      if (c == '\n') c = ' ';
    return out;
  }

  std::string conninfo_;
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<SqlConnection> make_pgsql_connection(std::string conninfo) {
  return std::make_unique<PgsqlConnection>(std::move(conninfo));
}

}  // namespace dovetail::userdb
