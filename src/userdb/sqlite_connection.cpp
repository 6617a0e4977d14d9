// SQLite backend of SqlConnection. The file is opened read-write without CREATE, so a
// missing database is a connect error (temporary), never a new empty database. The lookup
// deadline bounds both a wait for a writer's lock (busy timeout) and a slow query (the
// progress handler interrupts it).
#include <sqlite3.h>

#include <algorithm>

#include "userdb/sql_connection.hpp"

namespace dovetail::userdb {
namespace {

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(std::string path) : path_(std::move(path)) {}
  ~SqliteConnection() override { disconnect(); }

  base::Status connect(SqlDeadline) override {
    if (db_) return {};
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close(db);
      return base::fail(base::Error::temporary("sqlite: open(" + path_ + "): " + msg));
    }
    sqlite3_progress_handler(db, 1000, past_deadline, &deadline_);
    db_ = db;
    return {};
  }

  bool connected() const override { return db_ != nullptr; }

  void disconnect() override {
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
  }

  base::Result<std::string> escape(std::string_view value) override {
    std::string out;
    out.reserve(value.size() + 2);
    for (char c : value) {
      if (c == '\0') return base::fail(base::Error::invalid("NUL byte in SQL value"));
      if (c == '\'') out += '\'';
      out += c;
    }
    return out;
  }

  base::Result<std::vector<Fields>> query(const std::string& sql, size_t max_rows,
                                          SqlDeadline deadline) override {
    if (!db_) return base::fail(base::Error::temporary("sqlite: not connected"));
    deadline_ = deadline;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    sqlite3_busy_timeout(db_, static_cast<int>(std::clamp<int64_t>(left.count(), 1, 3'600'000)));
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()) + 1, &stmt, nullptr);
    if (rc != SQLITE_OK || stmt == nullptr) return failed(rc, stmt);
    std::vector<Fields> rows;
    while (rows.size() < max_rows) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return failed(rc, stmt);
      Fields row;
      int n = sqlite3_column_count(stmt);
      for (int i = 0; i < n; ++i) {
        if (sqlite3_column_type(stmt, i) == SQLITE_NULL) continue;
        const char* name = sqlite3_column_name(stmt, i);
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        int len = sqlite3_column_bytes(stmt, i);
        row.emplace_back(name ? name : "", text ? std::string(text, static_cast<size_t>(len)) : "");
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    return rows;
  }

 private:
  base::Unexpected<base::Error> failed(int rc, sqlite3_stmt* stmt) {
    std::string msg = "sqlite: query failed: " + std::string(sqlite3_errmsg(db_));
    sqlite3_finalize(stmt);
    int primary = rc & 0xff;
    // The file went away or broke: reopen on the next lookup.
    if (primary == SQLITE_CANTOPEN || primary == SQLITE_NOTADB || primary == SQLITE_IOERR ||
        primary == SQLITE_CORRUPT)
      disconnect();
    return base::fail(base::Error::temporary(std::move(msg)));
  }

  // sqlite3_progress_handler callback: non-zero interrupts the statement.
  static int past_deadline(void* deadline) {
    return std::chrono::steady_clock::now() > *static_cast<SqlDeadline*>(deadline) ? 1 : 0;
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  SqlDeadline deadline_ = SqlDeadline::max();
};

}  // namespace

std::unique_ptr<SqlConnection> make_sqlite_connection(std::string path) {
  return std::make_unique<SqliteConnection>(std::move(path));
}

}  // namespace dovetail::userdb
