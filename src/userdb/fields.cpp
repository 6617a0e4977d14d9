#include "userdb/fields.hpp"

namespace dovetail::userdb {

Fields parse_fields(std::string_view text) {
  Fields out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (start == i) break;
    std::string_view word = text.substr(start, i - start);
    size_t eq = word.find('=');
    if (eq == std::string_view::npos)
      out.emplace_back(std::string(word), std::string());
    else
      out.emplace_back(std::string(word.substr(0, eq)), std::string(word.substr(eq + 1)));
  }
  return out;
}

void set_field(Fields& fields, std::string_view key, std::string value) {
  for (auto& f : fields) {
    if (f.first == key) {
      f.second = std::move(value);
      return;
    }
  }
  fields.emplace_back(std::string(key), std::move(value));
}

namespace {
bool has_duplicate_keys(const Fields& fields) {
  for (size_t i = 0; i < fields.size(); ++i)
    for (size_t j = i + 1; j < fields.size(); ++j)
      if (fields[i].first == fields[j].first) return true;
  return false;
}
}  // namespace

void merge_fields(Fields& into, Fields&& from) {
  if (into.empty() && !has_duplicate_keys(from)) {
    into = std::move(from);  // what the loop below would build, without copying it
    return;
  }
  for (auto& [key, value] : from) set_field(into, key, std::move(value));
}

const std::string* find_field(const Fields& fields, std::string_view key) {
  for (const auto& f : fields)
    if (f.first == key) return &f.second;
  return nullptr;
}

base::VarTable lookup_vars(std::string_view user, std::string_view service, std::string_view home,
                           const std::function<std::string(std::string_view)>& escape) {
  base::VarTable vars = base::user_vars(user, home);
  vars.push_back({'s', "service", std::string(service)});
  if (escape)
    for (auto& v : vars) v.value = escape(v.value);
  return vars;
}

base::Result<std::string> expand(std::string_view tmpl, const base::VarTable& vars) {
  auto ex = base::var_expand(tmpl, vars);
  if (!ex.unknown.empty()) {
    return base::fail(base::Error::temporary(base::describe_failure(ex) + " in '" + std::string(tmpl) + "'"));
  }
  return std::move(ex.text);
}

base::Result<Fields> expand_fields(const Fields& fields, const base::VarTable& vars) {
  Fields out;
  out.reserve(fields.size());
  for (const auto& [key, value] : fields) {
    auto v = expand(value, vars);
    if (!v) return base::fail(v.error());
    out.emplace_back(key, std::move(*v));
  }
  return out;
}

bool is_numeric_id(std::string_view value) {
  for (char c : value)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace dovetail::userdb
