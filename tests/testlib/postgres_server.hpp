// postgres_server.hpp — a throwaway PostgreSQL server for tests (real server, real sockets).
//
// Purpose: CI machines run no services, so tests that need PostgreSQL start their own:
// initdb in a fresh temp dir, listen on 127.0.0.1 at a free port plus a UNIX socket inside
// the temp dir, trust authentication for the `postgres` superuser, fsync off. Everything is
// stopped and removed by the destructor. When the test runs as root, every PostgreSQL
// program runs as the `postgres` system user (initdb refuses root) via runuser; otherwise as
// the current user. Binaries: $DOVETAIL_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin,
// else PATH.
// Depends on: std + POSIX only (psql is used for SQL, so tests need not link libpq).
// Error contract: start()/stop()/psql() return false and put the reason (command output)
// in error(). Threading: one test thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dovetail::testlib {

class PostgresServer {
 public:
  // Creates and starts a new cluster; nullptr with *error filled when that fails.
  static std::unique_ptr<PostgresServer> create(std::string* error);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  bool start();  // pg_ctl start -w (again after stop(): same data, same port)
  bool stop();   // pg_ctl stop -m fast -w
  unsigned port() const { return port_; }
  const std::string& socket_dir() const { return socket_dir_; }
  const std::string& error() const { return error_; }

  // libpq conninfo for `dbname` over TCP: "host=127.0.0.1 port=N dbname=D user=postgres".
  std::string conninfo(std::string_view dbname) const;
  // Runs `sql` (several statements allowed) with psql as the superuser, stopping at the first
  // error. `output` receives psql's output.
  bool psql(std::string_view dbname, std::string_view sql, std::string* output = nullptr);

 private:
  PostgresServer() = default;
  bool run(const std::vector<std::string>& argv, std::string* output);

  std::string bindir_;
  std::string root_;  // temp dir holding data/, sock/, log
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_file_;
  unsigned port_ = 0;
  bool as_postgres_user_ = false;
  bool running_ = false;
  std::string error_;
};

}  // namespace dovetail::testlib
