#include "config/dovecot_keys.hpp"

#include <algorithm>

namespace dovetail::config {
namespace {

struct SectionKeyRow {
  std::string_view type;
  DovecotKey key;
};

std::vector<DovecotKey> make_top() {
  std::vector<DovecotKey> v = {
#define DOVECOT_SETTING(k, d) DovecotKey{k, d, infer_kind(k, d)},
#define DOVECOT_SECTION_KEY(t, k, d)
#define DOVECOT_BUILTIN(s, t, n, k, v)
#include "config/dovecot_keys.inc"
#undef DOVECOT_SETTING
#undef DOVECOT_SECTION_KEY
#undef DOVECOT_BUILTIN
  };
  std::sort(v.begin(), v.end(), [](const DovecotKey& a, const DovecotKey& b) { return a.name < b.name; });
  return v;
}

std::map<std::string, std::vector<DovecotKey>, std::less<>> make_sections() {
  std::vector<SectionKeyRow> rows = {
#define DOVECOT_SETTING(k, d)
#define DOVECOT_SECTION_KEY(t, k, d) SectionKeyRow{t, DovecotKey{k, d, infer_kind(k, d)}},
#define DOVECOT_BUILTIN(s, t, n, k, v)
#include "config/dovecot_keys.inc"
#undef DOVECOT_SETTING
#undef DOVECOT_SECTION_KEY
#undef DOVECOT_BUILTIN
  };
  std::map<std::string, std::vector<DovecotKey>, std::less<>> out;
  for (const auto& r : rows) out[std::string(r.type)].push_back(r.key);
  for (auto& [t, keys] : out)
    std::sort(keys.begin(), keys.end(), [](const DovecotKey& a, const DovecotKey& b) { return a.name < b.name; });
  return out;
}

const std::map<std::string, std::vector<DovecotKey>, std::less<>>& sections() {
  static const auto s = make_sections();
  return s;
}

const DovecotKey* find_in(const std::vector<DovecotKey>& v, std::string_view name) {
  auto it = std::lower_bound(v.begin(), v.end(), name,
                             [](const DovecotKey& a, std::string_view n) { return a.name < n; });
  return it != v.end() && it->name == name ? &*it : nullptr;
}

}  // namespace

const std::vector<DovecotKey>& dovecot_settings() {
  static const auto v = make_top();
  return v;
}

const DovecotKey* find_dovecot_setting(std::string_view name) { return find_in(dovecot_settings(), name); }

const std::vector<DovecotKey>& dovecot_section_keys(std::string_view type) {
  static const std::vector<DovecotKey> none;
  auto it = sections().find(type);
  return it == sections().end() ? none : it->second;
}

const DovecotKey* find_dovecot_section_key(std::string_view type, std::string_view key) {
  return find_in(dovecot_section_keys(type), key);
}

const std::vector<BuiltinServiceKey>& dovecot_builtin_services() {
  static const std::vector<BuiltinServiceKey> m = {
#define DOVECOT_SETTING(k, d)
#define DOVECOT_SECTION_KEY(t, k, d)
#define DOVECOT_BUILTIN(s, t, n, k, v) BuiltinServiceKey{s, t, n, k, v},
#include "config/dovecot_keys.inc"
#undef DOVECOT_SETTING
#undef DOVECOT_SECTION_KEY
#undef DOVECOT_BUILTIN
  };
  return m;
}

std::string_view dovecot_keys_version() { return "2.3.19.1"; }

}  // namespace dovetail::config
