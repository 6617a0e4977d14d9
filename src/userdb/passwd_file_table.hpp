// passwd_file_table.hpp — parse Dovecot's passwd-file format into a lookup table.
//
// Format (one user per line): user:password:uid:gid:gecos:home:shell:extra_fields
// Lines that are empty or start with '#' or ':' are skipped; missing trailing columns are
// allowed; extra_fields is everything after the 7th ':' (so values may contain ':'), split at
// spaces into "key=value" words. A user listed twice keeps its first line (Dovecot logs an
// error). A trailing '\r' is removed (files edited on Windows).
// Depends on: std, userdb/fields. Error contract: never fails; problems are reported in
// `warnings` for the caller to log. Threading: pure.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "userdb/fields.hpp"

namespace dovetail::userdb {

struct PasswdEntry {
  std::string password;
  std::string uid;           // raw column, "" = not given
  std::string gid;
  std::string home;
  bool has_userdb_info = false;  // the gid column exists (Dovecot: otherwise no userdb lookups)
  Fields extra;                  // unexpanded, in file order
};

struct PasswdTable {
  std::unordered_map<std::string, PasswdEntry> users;
  std::vector<std::string> warnings;
};

PasswdTable parse_passwd_file(std::string_view content);

}  // namespace dovetail::userdb
