// sql_config.hpp — read a dovecot-sql.conf.ext file (the `args` of a `driver = sql` db).
//
// Purpose: "key = value" lines as Dovecot's settings reader accepts them: '#' comments
// (outside quotes), trailing '\' continues a line (joined with one space), values in "..."
// or '...' are unquoted. Keys: driver, connect, password_query, user_query, iterate_query,
// default_pass_scheme (update_query and userdb_warning_disable are accepted and ignored).
// Defaults are Dovecot 2.3's (queries on a `users` table keyed by username + domain).
// Depends on: base. Error contract: kConfig "file:line: message" for unknown keys, a missing
// '=', an unsupported driver; read_sql_config also for an unreadable file.
// Threading: pure.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace dovetail::userdb {

// How long one SQL lookup may take in all: waiting for a pooled connection, connecting,
// and the query (also set as the server's statement_timeout). Past it the lookup is a
// temporary failure (451 4.3.0), so a database that accepts connections but never answers
// (a LOCK TABLE, a stopped server) cannot hold worker threads forever. Dovecot has no such
// key in dovecot-sql.conf.ext; its LMTP gives up on an auth lookup after 30 s
// (AUTH_REQUEST_TIMEOUT_SECS), and so does Dovetail. Documented in docs/config.md.
inline constexpr std::chrono::milliseconds kSqlLookupTimeout{std::chrono::seconds(30)};
// Dovecot's SQL_CONNECT_TIMEOUT_SECS: one connection attempt, within the lookup deadline.
inline constexpr std::chrono::milliseconds kSqlConnectTimeout{std::chrono::seconds(5)};

struct SqlConfig {
  std::string driver;  // "sqlite" | "pgsql"
  std::string connect;
  std::string password_query =
      "SELECT username, domain, password FROM users WHERE username = '%n' AND domain = '%d'";
  std::string user_query =
      "SELECT home, uid, gid FROM users WHERE username = '%n' AND domain = '%d'";
  std::string iterate_query = "SELECT username, domain FROM users";
  std::string default_pass_scheme = "MD5";
  // Not read from the file (see kSqlLookupTimeout); tests shorten it.
  std::chrono::milliseconds lookup_timeout = kSqlLookupTimeout;
};

[[nodiscard]] base::Result<SqlConfig> parse_sql_config(std::string_view content,
                                                       std::string_view file_name);
[[nodiscard]] base::Result<SqlConfig> read_sql_config(const std::string& path);

}  // namespace dovetail::userdb
