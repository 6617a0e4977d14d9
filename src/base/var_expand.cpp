#include "base/var_expand.hpp"

#include <cctype>

namespace dovetail::base {
namespace {

const VarEntry* find_short(const VarTable& vars, char key) {
  for (const auto& v : vars)
    if (v.key != '\0' && v.key == key) return &v;
  return nullptr;
}

const VarEntry* find_long(const VarTable& vars, std::string_view name) {
  for (const auto& v : vars)
    if (v.name == name) return &v;
  return nullptr;
}

std::string apply(std::string value, bool lower, bool upper) {
  for (auto& c : value) {
    if (lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return value;
}

}  // namespace

Expanded var_expand(std::string_view tmpl, const VarTable& vars) {
  Expanded out;
  out.text.reserve(tmpl.size() + 32);
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c != '%' || i + 1 >= tmpl.size()) {
      out.text.push_back(c);
      continue;
    }
    ++i;
    if (tmpl[i] == '%') {
      out.text.push_back('%');
      continue;
    }
    bool lower = false, upper = false;
    while (i < tmpl.size() && (tmpl[i] == 'L' || tmpl[i] == 'U')) {
      (tmpl[i] == 'L' ? lower : upper) = true;
      ++i;
    }
    if (i >= tmpl.size()) break;
    const VarEntry* entry = nullptr;
    std::string name;
    if (tmpl[i] == '{') {
      size_t close = tmpl.find('}', i);
      if (close == std::string_view::npos) {  // unterminated: keep the text verbatim
        out.text.append(tmpl.substr(i - 1));
        break;
      }
      name = std::string(tmpl.substr(i + 1, close - i - 1));
      entry = find_long(vars, name);
      i = close;
    } else {
      name = std::string(1, tmpl[i]);
      entry = find_short(vars, tmpl[i]);
    }
    if (entry)
      out.text += apply(entry->value, lower, upper);
    else
      out.unknown.push_back(name);
  }
  return out;
}

VarTable user_vars(std::string_view user, std::string_view home) {
  auto at = user.rfind('@');
  std::string_view username = at == std::string_view::npos ? user : user.substr(0, at);
  std::string_view domain = at == std::string_view::npos ? std::string_view{} : user.substr(at + 1);
  return {
      {'u', "user", std::string(user)},
      {'n', "username", std::string(username)},
      {'d', "domain", std::string(domain)},
      {'h', "home", std::string(home)},
  };
}

std::string expand_home(std::string_view path, std::string_view home) {
  if (path == "~") return std::string(home);
  if (path.starts_with("~/")) return std::string(home) + std::string(path.substr(1));
  return std::string(path);
}

}  // namespace dovetail::base
