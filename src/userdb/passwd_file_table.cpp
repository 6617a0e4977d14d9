#include "userdb/passwd_file_table.hpp"

namespace dovetail::userdb {
namespace {

std::vector<std::string_view> split_colons(std::string_view line, size_t max_parts) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (parts.size() + 1 < max_parts) {
    size_t colon = line.find(':', start);
    if (colon == std::string_view::npos) break;
    parts.push_back(line.substr(start, colon - start));
    start = colon + 1;
  }
  parts.push_back(line.substr(start));
  return parts;
}

}  // namespace

PasswdTable parse_passwd_file(std::string_view content) {
  PasswdTable table;
  size_t pos = 0;
  unsigned line_no = 0;
  while (pos < content.size()) {
    size_t nl = content.find('\n', pos);
    std::string_view line =
        content.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? content.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#' || line.front() == ':') continue;

    // user, password, uid, gid, gecos, home, shell, extra (the rest, colons kept)
    auto cols = split_colons(line, 8);
    std::string user(cols[0]);
    if (table.users.contains(user)) {
      table.warnings.push_back("line " + std::to_string(line_no) + ": user " + user +
                               " exists more than once");
      continue;
    }
    PasswdEntry e;
    if (cols.size() > 1) e.password = std::string(cols[1]);
    if (cols.size() > 2) e.uid = std::string(cols[2]);
    if (cols.size() > 3) {
      e.gid = std::string(cols[3]);
      e.has_userdb_info = true;
    }
    if (cols.size() > 5) e.home = std::string(cols[5]);
    if (cols.size() > 7) e.extra = parse_fields(cols[7]);
    table.users.emplace(std::move(user), std::move(e));
  }
  return table;
}

}  // namespace dovetail::userdb
