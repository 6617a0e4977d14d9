#include "config/config_dump.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "config/dovecot_keys.hpp"
#include "config/settings_table.hpp"

namespace dovetail::config {
namespace {

bool free_form(std::string_view type) {
  return type == "plugin" || type == "dict" || type == "metric" || type == "event_exporter";
}

// The kind and Dovecot default text of a key in a section type ("" = top level).
struct KeyInfo {
  ValueKind kind = ValueKind::kString;
  std::string default_text;
  bool known = false;
};

KeyInfo key_info(std::string_view type, std::string_view key) {
  KeyInfo info;
  if (type.empty()) {
    if (const DovecotKey* k = find_dovecot_setting(key)) {
      info = {k->kind, std::string(k->default_value), true};
    }
    if (const auto* row = find_row(settings_rows(), key)) {
      info.kind = row_kind(*row);
      if (!info.known) info = {row_kind(*row), format_row(Settings{}, *row), true};
    }
    return info;
  }
  if (const DovecotKey* k = find_dovecot_section_key(type, key)) info = {k->kind, std::string(k->default_value), true};
  return info;
}

std::string display(ValueKind kind, const std::string& raw) {
  if (raw.starts_with("<") || raw.find('$') != std::string::npos) return raw;
  return normalize(kind, raw);
}

bool need_quote(std::string_view v) {
  if (v.empty()) return false;
  auto white = [](char c) { return c == ' ' || c == '\t'; };
  return v.find('#') != std::string_view::npos || white(v.front()) || white(v.back());
}

std::string quoted(std::string_view v) {
  if (!need_quote(v)) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

bool ends_with(std::string_view s, std::string_view suf) { return s.size() > suf.size() && s.ends_with(suf); }

// doveconf's secret hiding: whole values of *_password, *_api_key, ssl_key*, ssl_dh*; inside
// other values (connect strings) the value of words starting with "pass" or "secret".
std::string hide(std::string_view key, std::string_view value) {
  if (!value.empty() && (ends_with(key, "_password") || ends_with(key, "_api_key") || key.starts_with("ssl_key") ||
                         key.starts_with("ssl_dh")))
    return "# hidden, use -P to show it";
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    bool boundary = i == 0 || !std::isalnum(static_cast<unsigned char>(value[i - 1]));
    std::string_view rest = value.substr(i);
    if (boundary && (rest.starts_with("pass") || rest.starts_with("secret"))) {
      size_t j = i;
      while (j < value.size() && value[j] != '=' && value[j] != ' ' && value[j] != '\t') ++j;
      out.append(value.substr(i, j - i));
      if (j < value.size() && value[j] == '=') {
        out.append("=#hidden_use-P_to_show#");
        ++j;
        while (j < value.size() && value[j] != ' ' && value[j] != '\t') ++j;
      }
      i = j;
      continue;
    }
    out.push_back(value[i++]);
  }
  return out;
}

struct Entry {
  std::string sort;
  std::string text;
};

struct Printer {
  DumpScope scope;
  ShowSecrets secrets;

  std::string line(int indent, std::string_view key, std::string_view value) const {
    std::string v = secrets == ShowSecrets::kYes ? quoted(value) : hide(key, quoted(value));
    std::string pad(static_cast<size_t>(indent) * 2, ' ');
    return pad + std::string(key) + " = " + v + "\n";
  }

  static std::string join(std::vector<Entry> entries) {
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.sort < b.sort; });
    std::string out;
    for (auto& e : entries) out += e.text;
    return out;
  }

  // Should a key set in a section of `type` be printed under -n?
  bool print_key(std::string_view type, bool in_filter, const Assignment& a, const KeyInfo& info) const {
    if (scope == DumpScope::kAll || in_filter || free_form(type)) return true;
    // doveconf -n prints every key set inside a service/listener, even to its default.
    if (type == "service" || type == "inet_listener" || type == "unix_listener" || type == "fifo_listener")
      return true;
    if (type == "namespace" && (a.key == "location" || a.key == "prefix")) return true;
    return display(info.kind, a.raw) != normalize(info.kind, info.default_text);
  }

  std::vector<Entry> body(const Section& sec, int indent, bool in_filter) const {
    std::vector<Entry> entries;
    for (const auto& a : sec.keys) {
      KeyInfo info = key_info(sec.type, a.key);
      if (!print_key(sec.type, in_filter, a, info)) continue;
      entries.push_back({a.key, line(indent, a.key, display(info.kind, a.raw))});
    }
    if (scope == DumpScope::kChanged && sec.type == "namespace")
      for (const char* k : {"location", "prefix"})
        if (!sec.find(k)) entries.push_back({k, line(indent, k, "")});
    for (const auto& child : sec.children) {
      auto inner = body(child, indent + 1, in_filter);
      if (inner.empty() && (scope == DumpScope::kChanged || free_form(child.type))) continue;
      std::string pad(static_cast<size_t>(indent) * 2, ' ');
      std::string head = child.type + (child.name.empty() ? "" : " " + quoted_name(child.name));
      bool ordered = child.type == "passdb" || child.type == "userdb";
      std::string sort = child.type + "/" + (ordered ? "" : escape_name(child.name) + "/");
      entries.push_back({sort, pad + head + " {\n" + join(std::move(inner)) + pad + "}\n"});
    }
    return entries;
  }

  // Dovecot's section-name escaping in setting paths; it decides doveconf's sort order
  // ("a-b" < "a" < "a b" < "aa").
  static std::string escape_name(const std::string& n) {
    std::string out;
    for (char c : n) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case ' ': out += "\\_"; break;
        case '=': out += "\\e"; break;
        case '/': out += "\\|"; break;
        default: out.push_back(c);
      }
    }
    return out;
  }

  static std::string quoted_name(const std::string& n) {
    return n.find(' ') == std::string::npos ? n : "\"" + n + "\"";
  }
};

// --- the -a view: every key, Dovecot's built-in services merged with the configured ones.

Section* child_of(Section& parent, const std::string& type, const std::string& name) {
  for (auto& c : parent.children)
    if (c.type == type && c.name == name) return &c;
  parent.children.push_back(Section{type, name, "", 0, {}, {}});
  return &parent.children.back();
}

void fill_defaults(Section& sec) {
  if (!free_form(sec.type))
    for (const auto& k : dovecot_section_keys(sec.type))
      if (!sec.find(k.name)) sec.keys.push_back({std::string(k.name), std::string(k.default_value), {}, "", 0});
  for (auto& c : sec.children) fill_defaults(c);
}

void merge(Section& into, const Section& from) {
  for (const auto& a : from.keys) into.set(a);
  for (const auto& c : from.children) {
    bool repeatable = c.type == "passdb" || c.type == "userdb";
    if (repeatable) into.children.push_back(c);
    else merge(*child_of(into, c.type, c.name), c);
  }
}

Section full_root(const Config& config) {
  Section root;
  for (const auto& b : dovecot_builtin_services()) {
    Section* s = child_of(root, "service", std::string(b.service));
    if (!b.listener_type.empty()) s = child_of(*s, std::string(b.listener_type), std::string(b.listener_name));
    s->keys.push_back({std::string(b.key), std::string(b.value), std::string(b.value), "", 0});
  }
  merge(root, config.tree().root);
  // Unset keys show the default Dovetail really uses: its own where it has a row (a few differ
  // from Debian's Dovecot, see docs/config.md), Dovecot's for keys it only accepts.
  for (const auto& row : settings_rows())
    if (!root.find(row.name)) {
      std::string d = format_row(Settings{}, row);
      root.keys.push_back({std::string(row.name), d, d, "", 0});
    }
  for (const auto& k : dovecot_settings())
    if (!root.find(k.name)) root.keys.push_back({std::string(k.name), std::string(k.default_value), {}, "", 0});
  for (auto& c : root.children) fill_defaults(c);
  return root;
}

std::string filter_header(const FilterSpec& spec, int& depth, std::string& closing) {
  std::string out;
  auto open = [&](const std::string& what) {
    std::string pad(static_cast<size_t>(depth) * 2, ' ');
    out += pad + what + " {\n";
    closing = pad + "}\n" + closing;
    ++depth;
  };
  if (spec.local) open("local " + spec.local->text);
  if (spec.remote) open("remote " + spec.remote->text);
  if (!spec.local_name.empty()) open("local_name " + spec.local_name);
  if (!spec.protocol.empty()) open("protocol " + spec.protocol);
  return out;
}

}  // namespace

std::string dump_config(const Config& config, DumpScope scope, ShowSecrets secrets) {
  Printer p{scope, secrets};
  std::string out = "# dovetail " DOVETAIL_VERSION " (Dovecot " + std::string(dovecot_keys_version()) +
                    " config syntax): " + config.source_path() + "\n";
  if (scope == DumpScope::kAll) {
    out += Printer::join(p.body(full_root(config), 0, false));
  } else {
    out += Printer::join(p.body(config.tree().root, 0, false));
  }
  std::vector<size_t> order(config.tree().filters.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return config.tree().filters[a].spec.less_specific_than(config.tree().filters[b].spec);
  });
  for (size_t i : order) {
    const FilterBlock& block = config.tree().filters[i];
    int depth = 0;
    std::string closing;
    std::string head = filter_header(block.spec, depth, closing);
    auto inner = p.body(block.body, depth, true);
    if (inner.empty()) continue;
    out += head + Printer::join(std::move(inner)) + closing;
  }
  if (scope == DumpScope::kChanged)
    for (const auto& k : config.ignored_keys()) out += "# ignored by dovetail: " + k + "\n";
  return out;
}

base::Result<std::string> dump_key(const Config& config, std::string_view key) {
  Section root = full_root(config);
  const Section* s = &root;
  std::string_view rest = key;
  while (true) {
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) break;
    std::string type(rest.substr(0, slash));
    rest.remove_prefix(slash + 1);
    size_t slash2 = rest.find('/');
    if (slash2 == std::string_view::npos) {
      // "plugin/sieve": a nameless section
      const Section* next = nullptr;
      for (const auto& c : s->children)
        if (c.type == type && c.name.empty()) next = &c;
      if (!next) return base::fail(base::Error::not_found("Unknown setting: " + std::string(key)));
      s = next;
      break;
    }
    std::string name(rest.substr(0, slash2));
    rest.remove_prefix(slash2 + 1);
    const Section* next = nullptr;
    for (const auto& c : s->children)
      if (c.type == type && c.name == name) next = &c;
    if (!next) return base::fail(base::Error::not_found("Unknown setting: " + std::string(key)));
    s = next;
  }
  if (const Assignment* a = s->find(rest)) return a->raw;
  return base::fail(base::Error::not_found("Unknown setting: " + std::string(key)));
}

}  // namespace dovetail::config
