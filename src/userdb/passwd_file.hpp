// passwd_file.hpp — the `passwd-file` passdb/userdb driver (Dovecot's format).
//
// Purpose: args = "[scheme=<s>] [username_format=<fmt>] <path>"; the path may hold %vars
// (e.g. /etc/dovecot/users/%d) and is expanded per lookup; the key looked up in the file is
// username_format expanded (default %u). Userdb role returns uid, gid, home and the
// `userdb_*` extra fields (prefix removed); passdb role returns password (with {scheme} added
// when missing) and every extra field (proxy=y host= port= nopassword, userdb_* kept).
// Extra field values are %-expanded like Dovecot does.
// Reload: a lookup stat()s the file at most once per second, as Dovecot does; the file is
// re-read only when inode, size, mtime or ctime changed, so an edited or atomically replaced
// file is seen by the first lookup in the next second.
//
// Depends on: base, userdb/fields. Error contract (driver.hpp): unknown user → kNotFound;
// a file that cannot be read → kTemporary. A missing file is kTemporary for a fixed path (a
// deleted user file must not bounce everyone) and kNotFound for a templated path whose
// directory exists (Dovecot: an unknown domain has no file) — the directory missing is
// kTemporary. Dovecot quirks kept: a line without the gid column, or with uid/gid 0 or
// invalid, is not a userdb user. Not implemented: the libpam-pwdfile "pass[NN]" suffix.
// Threading: safe for concurrent lookups; one mutex per file serialises stat+reload, readers
// share an immutable parsed table.
// Security: path variable values are cut at the first '/' and "."/".." are refused, so a
// hostile address cannot name a file outside the configured directory.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "userdb/driver.hpp"
#include "userdb/passwd_file_table.hpp"

namespace dovetail::userdb {

class PasswdFileDriver final : public Driver {
 public:
  [[nodiscard]] static base::Result<std::unique_ptr<Driver>> create(Role role,
                                                                    std::string_view args);
  [[nodiscard]] base::Result<Fields> lookup(const LookupRequest& request) override;
  // From the cached table when the file was stat()ed within this second — Dovecot's own
  // re-check interval (db-passwd-file syncs at most once per ioloop second) — else nullopt.
  [[nodiscard]] std::optional<base::Result<Fields>> lookup_now(const LookupRequest& request) override;

  struct FileState;  // one cached file (public for the .cpp's helpers)

 private:
  PasswdFileDriver() = default;
  base::Result<std::shared_ptr<const PasswdTable>> table_for(const std::string& path);
  // The key looked up in the file: username_format expanded (the default "%u" is the user).
  base::Result<std::string> key_for(const LookupRequest& request) const;
  base::Result<Fields> fields_from(const PasswdTable& table, const std::string& key,
                                   const LookupRequest& request) const;
  base::Result<Fields> userdb_fields(const PasswdEntry& e, const LookupRequest& request) const;
  base::Result<Fields> passdb_fields(const PasswdEntry& e, const LookupRequest& request) const;

  Role role_ = Role::kUserdb;
  std::string path_template_;
  bool templated_ = false;
  std::string scheme_ = "CRYPT";
  std::string username_format_ = "%u";

  std::mutex files_mu_;  // guards files_ only
  std::map<std::string, std::shared_ptr<FileState>> files_;
};

}  // namespace dovetail::userdb
