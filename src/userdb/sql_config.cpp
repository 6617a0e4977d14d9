#include "userdb/sql_config.hpp"

#include <fstream>
#include <sstream>

namespace dovetail::userdb {
namespace {

bool is_white(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_white(s.front())) s.remove_prefix(1);
  while (!s.empty() && (is_white(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Cuts a '#' comment that is outside '...' / "..." (backslash escapes inside quotes).
std::string_view strip_comment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\'' || c == '"') {
      for (++i; i < line.size() && line[i] != c; ++i)
        if (line[i] == '\\' && i + 1 < line.size()) ++i;
      if (i >= line.size()) break;
    } else if (c == '#') {
      return line.substr(0, i);
    }
  }
  return line;
}

std::string unquote(std::string_view v) {
  if (v.size() < 2 || !((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\'')))
    return std::string(v);
  v = v.substr(1, v.size() - 2);
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      ++i;
      switch (v[i]) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        default: out += v[i];
      }
    } else {
      out += v[i];
    }
  }
  return out;
}

}  // namespace

base::Result<SqlConfig> parse_sql_config(std::string_view content, std::string_view file_name) {
  SqlConfig cfg;
  std::string pending;  // continued line
  unsigned line_no = 0, start_line = 0;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t nl = content.find('\n', pos);
    std::string_view raw =
        content.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? content.size() : nl + 1;
    ++line_no;
    std::string_view line = trim(raw);
    if (pending.empty() && (line.empty() || line.front() == '#')) continue;
    line = trim(strip_comment(line));
    if (pending.empty()) start_line = line_no;
    if (!line.empty() && line.back() == '\\') {
      pending += trim(line.substr(0, line.size() - 1));
      pending += ' ';
      continue;
    }
    std::string full = pending + std::string(line);
    pending.clear();
    if (full.empty()) continue;

    auto where = [&] { return std::string(file_name) + ":" + std::to_string(start_line) + ": "; };
    size_t eq = full.find('=');
    if (eq == std::string::npos)
      return base::fail(base::Error::config(where() + "expected 'key = value'"));
    std::string key(trim(std::string_view(full).substr(0, eq)));
    std::string value = unquote(trim(std::string_view(full).substr(eq + 1)));
    if (key == "driver") {
      if (value != "sqlite" && value != "pgsql")
        return base::fail(base::Error::config(where() + "unsupported SQL driver '" + value +
                                              "' (Dovetail supports sqlite and pgsql)"));
      cfg.driver = value;
    } else if (key == "connect") {
      cfg.connect = value;
    } else if (key == "password_query") {
      cfg.password_query = value;
    } else if (key == "user_query") {
      cfg.user_query = value;
    } else if (key == "iterate_query") {
      cfg.iterate_query = value;
    } else if (key == "default_pass_scheme") {
      cfg.default_pass_scheme = value;
    } else if (key == "update_query" || key == "userdb_warning_disable") {
      // accepted for compatibility; LMTP never updates passwords
    } else {
      return base::fail(base::Error::config(where() + "unknown setting: " + key));
    }
  }
  if (cfg.driver.empty())
    return base::fail(base::Error::config(std::string(file_name) + ": driver not set"));
  if (cfg.connect.empty())
    return base::fail(base::Error::config(std::string(file_name) + ": connect not set"));
  return cfg;
}

base::Result<SqlConfig> read_sql_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::fail(base::Error::config("sql: cannot read " + path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_sql_config(ss.str(), path);
}

}  // namespace dovetail::userdb
