#include "config/config_parser.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/dovecot_keys.hpp"
#include "config/settings_table.hpp"

namespace dovetail::config {

// ---- IpNet / FilterSpec ----------------------------------------------------------------

namespace {

bool parse_ip(std::string_view text, bool& v6, std::array<uint8_t, 16>& out) {
  std::string s(text);
  if (!s.empty() && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  in_addr a4{};
  in6_addr a6{};
  out.fill(0);
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    v6 = false;
    std::memcpy(out.data(), &a4, 4);
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    v6 = true;
    std::memcpy(out.data(), &a6, 16);
    // An IPv4-mapped address matches IPv4 networks.
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(out.data(), mapped, 12) == 0) {
      v6 = false;
      std::memmove(out.data(), out.data() + 12, 4);
      std::memset(out.data() + 4, 0, 12);
    }
    return true;
  }
  return false;
}

}  // namespace

std::optional<IpNet> IpNet::parse(std::string_view text) {
  IpNet net;
  net.text = std::string(text);
  std::string_view ip = text;
  std::optional<unsigned> bits;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    ip = text.substr(0, slash);
    std::string err;
    bits = parse_uint(text.substr(slash + 1), err);
    if (!bits) return std::nullopt;
  }
  if (!parse_ip(ip, net.v6, net.addr)) return std::nullopt;
  unsigned max = net.v6 ? 128 : 32;
  net.bits = bits.value_or(max);
  if (net.bits > max) return std::nullopt;
  return net;
}

bool IpNet::contains(std::string_view ip) const {
  bool ip_v6 = false;
  std::array<uint8_t, 16> a{};
  if (!parse_ip(ip, ip_v6, a) || ip_v6 != v6) return false;
  unsigned full = bits / 8, rest = bits % 8;
  if (std::memcmp(a.data(), addr.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (addr[full] & mask);
}

bool FilterSpec::same_as(const FilterSpec& o) const {
  auto net_eq = [](const std::optional<IpNet>& x, const std::optional<IpNet>& y) {
    if (x.has_value() != y.has_value()) return false;
    return !x || (x->v6 == y->v6 && x->bits == y->bits && x->addr == y->addr);
  };
  return protocol == o.protocol && local_name == o.local_name && net_eq(local, o.local) && net_eq(remote, o.remote);
}

bool FilterSpec::less_specific_than(const FilterSpec& o) const {
  unsigned lb = local ? local->bits + 1 : 0, olb = o.local ? o.local->bits + 1 : 0;
  if (lb != olb) return lb < olb;
  unsigned rb = remote ? remote->bits + 1 : 0, orb = o.remote ? o.remote->bits + 1 : 0;
  if (rb != orb) return rb < orb;
  if (local_name.empty() != o.local_name.empty()) return local_name.empty();
  return protocol.empty() && !o.protocol.empty();
}

// ---- the parser -------------------------------------------------------------------------

namespace {

bool is_white(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string unescape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

// Free-form sections: any key is accepted (Dovecot stores them as string lists).
bool free_form(std::string_view type) {
  return type == "plugin" || type == "dict" || type == "metric" || type == "event_exporter";
}

bool top_level_section(std::string_view type) {
  return type == "service" || type == "namespace" || type == "passdb" || type == "userdb" || free_form(type);
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string join_path(const std::string& dir, std::string_view rel) {
  if (!rel.empty() && rel.front() == '/') return std::string(rel);
  return dir + "/" + std::string(rel);
}

bool read_whole(const std::string& path, std::string& out, int& err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = errno ? errno : ENOENT;
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  if (in.bad()) {
    err = EIO;
    return false;
  }
  return true;
}

enum class FrameKind { kRoot, kFilter, kSection };

struct Frame {
  Section* section;
  FrameKind kind;
  FilterSpec spec;  // accumulated for filters
  std::string file;
  unsigned line;
};

class Parser {
 public:
  explicit Parser(ConfigTree& tree) : tree_(tree) {
    stack_.push_back({&tree_.root, FrameKind::kRoot, {}, tree_.source, 0});
  }

  base::Status parse_file(const std::string& path, const std::string& display) {
    std::string text;
    int err = 0;
    if (!read_whole(path, text, err))
      return base::fail(base::Error::config(display + ":0: Can't open file " + path + ": " + std::strerror(err)));
    record_input(path, text);
    return parse_text(text, path, display);
  }

  // Every byte the parse depends on, framed so that moving bytes between files changes it.
  void record_input(std::string_view path, std::string_view bytes) {
    tree_.inputs += std::to_string(path.size()) + ":" + std::string(path) + std::to_string(bytes.size()) + ":";
    tree_.inputs.append(bytes);
  }

  base::Status parse_text(std::string_view text, const std::string& path, const std::string& display) {
    std::error_code ec;
    std::string canon = std::filesystem::weakly_canonical(path, ec).string();
    if (ec) canon = path;
    for (const auto& open : include_stack_)
      if (open == canon)
        return fail_at(Loc{display, 0}, "Recursive include file: " + path);
    if (include_stack_.size() >= kMaxIncludeDepth) return fail_at(Loc{display, 0}, "Includes nested too deeply");
    include_stack_.push_back(canon);
    size_t depth = stack_.size();
    std::string saved_dir = dir_;
    dir_ = dir_of(path);

    unsigned lineno = 0;
    size_t pos = 0;
    std::string logical;
    unsigned logical_start = 0;
    while (pos <= text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      ++lineno;
      if (logical.empty()) logical_start = lineno;
      while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty() && line.back() == '\\') {  // continuation: join with the next line
        line.remove_suffix(1);
        logical.append(line);
        if (pos <= text.size()) continue;
      } else {
        logical.append(line);
      }
      auto st = parse_line(logical, Loc{display, logical_start});
      logical.clear();
      if (!st) return st;
      if (nl == text.size()) break;
    }
    if (stack_.size() > depth) {
      const Frame& f = stack_.back();
      return fail_at(Loc{f.file, f.line}, "Missing '}'");
    }
    dir_ = saved_dir;
    include_stack_.pop_back();
    return {};
  }

 private:
  struct Loc {
    std::string file;
    unsigned line;
  };
  static constexpr size_t kMaxIncludeDepth = 32;

  static base::Status fail_at(const Loc& loc, const std::string& msg) {
    return base::fail(base::Error::config(loc.file + ":" + std::to_string(loc.line) + ": " + msg));
  }

  base::Status parse_line(std::string_view line, const Loc& loc) {
    while (!line.empty() && is_white(line.front())) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') return {};
    // Strip the comment: the first '#' outside quotes.
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (c == '"' || c == '\'') {
        size_t j = i + 1;
        while (j < line.size() && line[j] != c) j += (line[j] == '\\' && j + 1 < line.size()) ? 2 : 1;
        if (j >= line.size()) break;
        i = j;
      } else if (c == '#') {
        line = line.substr(0, i);
        break;
      }
    }
    while (!line.empty() && is_white(line.back())) line.remove_suffix(1);
    if (line.empty()) return {};

    if (line.starts_with("!include_try ")) return include(line.substr(13), loc, /*must_match=*/false);
    if (line.starts_with("!include ")) return include(line.substr(9), loc, /*must_match=*/true);

    size_t k = 0;
    while (k < line.size() && !is_white(line[k]) && line[k] != '=') ++k;
    std::string_view key = line.substr(0, k);
    std::string_view rest = line.substr(k);
    while (!rest.empty() && is_white(rest.front())) rest.remove_prefix(1);

    if (!rest.empty() && rest.front() == '=') {
      rest.remove_prefix(1);
      while (!rest.empty() && is_white(rest.front())) rest.remove_prefix(1);
      return assign(key, rest, loc);
    }
    if (key == "}" && rest.empty()) {
      if (stack_.size() <= 1 || stack_.back().file != loc.file) return fail_at(loc, "Unexpected '}'");
      stack_.pop_back();
      return {};
    }
    // Section start: "type {" or "type name {" (name may be quoted).
    std::string name;
    if (rest.empty() || rest.front() != '{') {
      if (rest.empty()) return fail_at(loc, "Expecting '='");
      if (rest.front() == '"' || rest.front() == '\'') {
        char q = rest.front();
        size_t end = rest.find(q, 1);
        if (end == std::string_view::npos) return fail_at(loc, "Expecting '{'");
        name = unescape(rest.substr(1, end - 1));
        rest.remove_prefix(end + 1);
      } else {
        size_t end = 0;
        while (end < rest.size() && !is_white(rest[end]) && rest[end] != '{') ++end;
        name = std::string(rest.substr(0, end));
        rest.remove_prefix(end);
      }
      while (!rest.empty() && is_white(rest.front())) rest.remove_prefix(1);
      if (rest.empty() || rest.front() != '{') return fail_at(loc, "Expecting '{'");
    }
    if (rest.size() > 1) return fail_at(loc, "Garbage after '{'");
    return open_section(std::string(key), std::move(name), loc);
  }

  base::Status include(std::string_view pattern, const Loc& loc, bool must_match) {
    while (!pattern.empty() && is_white(pattern.front())) pattern.remove_prefix(1);
    std::string full = join_path(dir_, pattern);
    glob_t g{};
    int rc = glob(full.c_str(), GLOB_BRACE, nullptr, &g);
    std::vector<std::string> files;
    if (rc == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
    globfree(&g);
    if (files.empty()) {
      if (!must_match) return {};
      return fail_at(loc, "!include " + std::string(pattern) + ": No matches");
    }
    for (const auto& f : files) {
      std::error_code ec;
      std::string canon = std::filesystem::weakly_canonical(f, ec).string();
      for (const auto& open : include_stack_)
        if (open == (ec ? f : canon)) return fail_at(loc, "Recursive include file: " + f);
      std::string text;
      int err = 0;
      if (!read_whole(f, text, err)) {
        if (!must_match && err == ENOENT) continue;
        return fail_at(loc, "Can't open file " + f + ": " + std::strerror(err));
      }
      record_input(f, text);
      if (auto st = parse_text(text, f, f); !st) return st;
    }
    return {};
  }

  const std::string& section_type() const { return stack_.back().section->type; }

  base::Status check_key(std::string_view key, const Loc& loc) const {
    const Frame& f = stack_.back();
    if (f.kind != FrameKind::kSection) {
      if (find_dovecot_setting(key) || find_row(settings_rows(), key)) return {};
      return fail_at(loc, "Unknown setting: " + std::string(key));
    }
    const std::string& type = f.section->type;
    if (free_form(type) || find_dovecot_section_key(type, key)) return {};
    return fail_at(loc, "Unknown setting: " + std::string(key));
  }

  // The value of `name` as seen from the current frame: innermost assignment first, then
  // Dovecot's/Dovetail's default. `raw` selects Assignment::raw instead of ::value.
  std::optional<std::string> lookup(std::string_view name, bool raw) const {
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it)
      if (const Assignment* a = it->section->find(name)) return raw ? a->raw : a->value;
    if (stack_.back().kind == FrameKind::kSection)
      if (const DovecotKey* k = find_dovecot_section_key(section_type(), name)) return std::string(k->default_value);
    if (const DovecotKey* k = find_dovecot_setting(name)) return std::string(k->default_value);
    if (const auto* row = find_row(settings_rows(), name)) return format_row(Settings{}, *row);
    return std::nullopt;
  }

  // Expands $words. In raw mode only a self-reference ($key in key's own value) is expanded,
  // as doveconf -n does, so the dump stays diffable against doveconf.
  base::Result<std::string> expand(std::string_view key, std::string_view v, bool raw, const Loc& loc) const {
    std::string out;
    size_t pos = 0;
    while (pos <= v.size()) {
      size_t sp = v.find(' ', pos);
      if (sp == std::string_view::npos) sp = v.size();
      std::string_view word = v.substr(pos, sp - pos);
      if (word.size() > 1 && word.front() == '$') {
        std::string_view var = word.substr(1);
        if (var.starts_with("ENV:")) {
          if (raw) out.append(word);
          else if (const char* e = std::getenv(std::string(var.substr(4)).c_str())) out.append(e);
        } else if (raw && var != key) {
          out.append(word);
        } else if (auto val = lookup(var, raw)) {
          out.append(*val);
        } else {
          return base::fail(base::Error::config(loc.file + ":" + std::to_string(loc.line) +
                                                ": Unknown variable: " + std::string(word)));
        }
      } else {
        out.append(word);
      }
      if (sp == v.size()) break;
      out.push_back(' ');
      pos = sp + 1;
    }
    return out;
  }

  base::Status assign(std::string_view key, std::string_view v, const Loc& loc) {
    if (key.empty()) return fail_at(loc, "Missing key name ('=' at the beginning of line)");
    if (auto st = check_key(key, loc); !st) return st;
    Assignment a{std::string(key), {}, {}, loc.file, loc.line};
    if (!v.empty() && v.front() == '<') {
      v.remove_prefix(1);
      while (!v.empty() && is_white(v.front())) v.remove_prefix(1);
      a.raw = "<" + std::string(v);
      std::string path = join_path(dir_, v);
      int err = 0;
      bool read = read_whole(path, a.value, err);
      record_input(path, read ? std::string_view(a.value) : std::string_view("(unreadable)"));
      if (!read) {
        std::string msg = std::string(key) + ": Can't open file " + std::string(v) + ": " + std::strerror(err);
        // TLS material is checked when TLS is set up (a stock Debian config names a
        // certificate that only exists after the package's postinst made one).
        if (!key.starts_with("ssl_")) return fail_at(loc, msg);
        a.value.clear();
        tree_.warnings.push_back(loc.file + ":" + std::to_string(loc.line) + ": " + msg);
      }
    } else if (!v.empty() && v.front() != '"' && v.front() != '\'' && v.find('$') != std::string_view::npos) {
      auto raw = expand(key, v, true, loc);
      if (!raw) return base::fail(raw.error());
      auto eff = expand(key, v, false, loc);
      if (!eff) return base::fail(eff.error());
      a.raw = std::move(*raw);
      a.value = std::move(*eff);
    } else {
      if (v.size() >= 2 && ((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\'')))
        a.raw = unescape(v.substr(1, v.size() - 2));
      else
        a.raw = std::string(v);
      a.value = a.raw;
    }
    stack_.back().section->set(std::move(a));
    return {};
  }

  base::Status open_filter(const std::string& type, const std::string& name, const Loc& loc) {
    const Frame& f = stack_.back();
    if (f.kind == FrameKind::kSection)
      return fail_at(loc, type + " { } block not allowed inside " + f.section->type + " { }");
    FilterSpec spec = f.spec;
    if (name.empty()) return fail_at(loc, type + " { } is missing a name");
    if (type == "protocol") {
      if (!spec.protocol.empty()) return fail_at(loc, "Nested protocol { protocol { .. } } block not allowed");
      spec.protocol = name;
    } else if (type == "local_name") {
      if (!spec.protocol.empty())
        return fail_at(loc, "protocol { local_name { .. } } not allowed (use local_name { protocol { .. } } instead)");
      if (!spec.local_name.empty()) return fail_at(loc, "Nested local_name { local_name { .. } } block not allowed");
      spec.local_name = name;
    } else {
      if (!spec.protocol.empty())
        return fail_at(loc, "protocol { " + type + " { .. } } not allowed (use " + type + " { protocol { .. } } instead)");
      auto net = IpNet::parse(name);
      if (!net) return fail_at(loc, "Invalid network mask: " + name);
      auto& slot = type == "local" ? spec.local : spec.remote;
      if (slot) return fail_at(loc, "Nested " + type + " { " + type + " { .. } } block not allowed");
      slot = std::move(net);
    }
    FilterBlock* block = nullptr;
    for (auto& b : tree_.filters)
      if (b.spec.same_as(spec)) block = &b;
    if (!block) {
      tree_.filters.push_back(FilterBlock{spec, Section{"", "", loc.file, loc.line, {}, {}}});
      block = &tree_.filters.back();
    }
    stack_.push_back({&block->body, FrameKind::kFilter, std::move(spec), loc.file, loc.line});
    return {};
  }

  base::Status open_section(std::string type, std::string name, const Loc& loc) {
    if (type == "protocol" || type == "local" || type == "remote" || type == "local_name")
      return open_filter(type, name, loc);
    const Frame& f = stack_.back();
    const std::string& parent = f.section->type;
    bool ok = false;
    if (f.kind != FrameKind::kSection) ok = top_level_section(type);
    else if (parent == "service") ok = type == "inet_listener" || type == "unix_listener" || type == "fifo_listener";
    else if (parent == "namespace") ok = type == "mailbox";
    if (!ok) return fail_at(loc, "Unknown section: " + type);
    if (type == "service" && name.empty()) return fail_at(loc, "service is missing name");

    Section* parent_sec = f.section;
    Section* target = nullptr;
    bool repeatable = type == "passdb" || type == "userdb";
    if (!name.empty() || !repeatable) {
      for (auto& c : parent_sec->children)
        if (c.type == type && c.name == name && (!name.empty() || free_form(type))) target = &c;
      if (target && repeatable) return fail_at(loc, type + "/" + name + " already exists");
    }
    if (!target) {
      parent_sec->children.push_back(Section{type, name, loc.file, loc.line, {}, {}});
      target = &parent_sec->children.back();
    }
    stack_.push_back({target, FrameKind::kSection, f.spec, loc.file, loc.line});
    return {};
  }

  ConfigTree& tree_;
  std::vector<Frame> stack_;
  std::vector<std::string> include_stack_;
  std::string dir_ = ".";
};

}  // namespace

base::Result<ConfigTree> parse_config_file(const std::string& path) {
  ConfigTree tree;
  tree.source = path;
  tree.root.file = path;
  Parser p(tree);
  if (auto st = p.parse_file(path, path); !st) return base::fail(st.error());
  return tree;
}

base::Result<ConfigTree> parse_config_string(std::string_view text, const std::string& name) {
  ConfigTree tree;
  tree.source = name;
  tree.root.file = name;
  Parser p(tree);
  std::string path = name.find('/') == std::string::npos ? "./" + name : name;
  p.record_input(name, text);
  if (auto st = p.parse_text(text, path, name); !st) return base::fail(st.error());
  return tree;
}

}  // namespace dovetail::config
