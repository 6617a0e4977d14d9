#include "base/var_expand.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "base/digest.hpp"
#include "base/var_expand_functions.hpp"

namespace dovetail::base {
namespace {

// The parsed `[offset.]width` part of one variable; modifiers H and N consume it.
struct Shape {
  int offset = 0;
  int width = 0;
  bool zero_padding = false;
};

std::string hex(uint64_t v) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  return std::string(buf, end);
}

std::string pad_left(std::string s, int len) {
  if (static_cast<int>(s.size()) < len) s.insert(0, static_cast<size_t>(len) - s.size(), '0');
  return s;
}

// Dovecot's str_hash() (the ELF hash); %H must give the same partition as Dovecot.
uint32_t str_hash(std::string_view s) {
  uint32_t h = 0;
  for (unsigned char c : s) {
    h = (h << 4) + c;
    if (uint32_t g = h & 0xf0000000u; g != 0) {
      h ^= g >> 24;
      h ^= g;
    }
  }
  return h;
}

std::string m_hash(const std::string& v, Shape& shape) {
  uint32_t value = str_hash(v);
  if (shape.width != 0) {
    value %= static_cast<uint32_t>(shape.width);
    shape.width = 0;
  }
  std::string out = pad_left(hex(value), shape.offset);
  shape.offset = 0;
  return out;
}

std::string m_newhash(const std::string& v, Shape& shape) {
  const std::string d = digest("md5", v).value_or(std::string(16, '\0'));
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | static_cast<unsigned char>(d[static_cast<size_t>(i)]);
  if (shape.width != 0) {
    value %= static_cast<uint64_t>(static_cast<uint32_t>(shape.width));
    shape.width = 0;
  }
  // Dovecot prints it as an unsigned int: only the low 32 bits.
  std::string out = pad_left(hex(static_cast<uint32_t>(value)), shape.offset);
  shape.offset = 0;
  return out;
}

std::string m_hex(const std::string& v, Shape&) {
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) n = 0;
  return hex(n);
}

std::string apply_modifier(char m, std::string v, Shape& shape) {
  switch (m) {
    case 'L':
      for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return v;
    case 'U':
      for (auto& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return v;
    case 'E': {
      std::string out;
      for (char c : v) {
        if (c == '"' || c == '\'' || c == '\\') out.push_back('\\');
        out.push_back(c);
      }
      return out;
    }
    case 'X': return m_hex(v, shape);
    case 'R': return std::string(v.rbegin(), v.rend());
    case 'H': return m_hash(v, shape);
    case 'N': return m_newhash(v, shape);
    case 'M': return md5_hex(v);
    case 'D': {
      std::string out;
      for (char c : v) {
        if (c == '.') out += ",dc=";
        else out.push_back(c);
      }
      return out;
    }
    case 'T':
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
      return v;
  }
  return v;
}

constexpr std::string_view kModifiers = "LUEXRHNMDT";
constexpr size_t kMaxModifiers = 10;  // Dovecot's MAX_MODIFIER_COUNT

std::optional<std::string> builtin(std::string_view key) {
  if (key == "pid") return std::to_string(::getpid());
  if (key == "uid") return std::to_string(::geteuid());
  if (key == "gid") return std::to_string(::getegid());
  if (key == "hostname") {
    if (const char* env = std::getenv("DOVECOT_HOSTNAME"); env && *env) return std::string(env);
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return std::string("localhost");
    return std::string(buf);
  }
  return std::nullopt;
}

// %{...} in the table; nullptr if it is not there.
const std::string_view* find_long(VarRefs vars, std::string_view key) {
  for (const auto& v : vars)
    if (!v.name.empty() && v.name == key) return &v.value;
  return nullptr;
}

// %{...} not in the table: userdb:NAME[:DEFAULT] (a field the userdb did not return: the
// default or ""), the built-ins, then env:NAME.
std::optional<std::string> lookup_builtin(std::string_view key, VarRefs vars) {
  if (key.starts_with("userdb:")) {
    const size_t colon = key.find(':', 7);
    if (colon == std::string_view::npos) return std::string();
    if (const std::string_view* v = find_long(vars, key.substr(0, colon))) return std::string(*v);
    return std::string(key.substr(colon + 1));
  }
  if (auto b = builtin(key)) return b;
  if (key.starts_with("env:")) {
    const char* value = std::getenv(std::string(key.substr(4)).c_str());
    return std::string(value ? value : "");
  }
  return std::nullopt;
}

// Offset/width as Dovecot applies them to the final (modified) value.
void append_shaped(std::string& out, std::string_view v, const Shape& shape) {
  if (shape.offset < 0) {
    size_t from_end = static_cast<size_t>(-static_cast<int64_t>(shape.offset));
    if (v.size() > from_end) v.remove_prefix(v.size() - from_end);
  } else {
    v.remove_prefix(std::min(v.size(), static_cast<size_t>(shape.offset)));
  }
  if (shape.width == 0) {
    out.append(v);
  } else if (!shape.zero_padding) {
    int64_t width = shape.width;
    if (width < 0) width = static_cast<int64_t>(v.size()) + width;
    // A negative result reaches Dovecot's str_append_max() as a huge size_t: all of it.
    out.append(width < 0 ? v : v.substr(0, static_cast<size_t>(width)));
  } else {
    if (static_cast<int64_t>(v.size()) < shape.width) out.append(static_cast<size_t>(shape.width) - v.size(), '0');
    out.append(v);
  }
}

int read_number(std::string_view t, size_t& i) {
  int n = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
    if (n < 100000000) n = n * 10 + (t[i] - '0');  // saturate: no overflow on hostile input
    ++i;
  }
  return n;
}

}  // namespace

Expanded var_expand(std::string_view t, VarRefs vars) {
  Expanded out;
  out.text.reserve(t.size() + 32);
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '%') {
      const size_t next = std::min(t.find('%', i), t.size());  // the literal run, in one append
      out.text.append(t.substr(i, next - i));
      i = next - 1;
      continue;
    }
    ++i;
    // [-][0]<width>[.[0][-]<width>]
    Shape shape;
    int sign = 1;
    if (i < t.size() && t[i] == '-') {
      sign = -1;
      ++i;
    }
    if (i < t.size() && t[i] == '0') {
      shape.zero_padding = true;
      ++i;
    }
    shape.width = read_number(t, i);
    if (i < t.size() && t[i] == '.') {
      shape.offset = sign * shape.width;
      sign = 1;
      shape.width = 0;
      ++i;
      shape.zero_padding = false;  // a zero before the offset means nothing
      if (i < t.size() && t[i] == '0') {
        shape.zero_padding = true;
        ++i;
      }
      if (i < t.size() && t[i] == '-') {
        sign = -1;
        ++i;
      }
      shape.width = sign * read_number(t, i);
    }
    std::string modifiers;
    while (modifiers.size() < kMaxModifiers && i < t.size() &&
           kModifiers.find(t[i]) != std::string_view::npos)
      modifiers.push_back(t[i++]);
    if (i >= t.size()) break;

    // A table value is used in place; only a modifier needs a copy to work on.
    const std::string_view* found = nullptr;
    std::optional<std::string> value;
    std::string unknown_name;
    if (t[i] == '{' && t.find('}', i) != std::string_view::npos) {
      // Braces nest (%{if;%{user};...}); the key ends at the matching one.
      size_t end = i + 1;
      for (int depth = 1; end < t.size(); ++end) {
        if (t[end] == '{') ++depth;
        if (t[end] == '}' && --depth == 0) break;
      }
      if (end == t.size()) {  // never closed: Dovecot's "Unknown variable '%{'"
        out.text += "UNSUPPORTED_VARIABLE_{";
        out.unknown.emplace_back("{");
        break;
      }
      const std::string_view key = t.substr(i + 1, end - i - 1);
      i = end;
      found = find_long(vars, key);
      if (found == nullptr) value = lookup_builtin(key, vars);
      if (found == nullptr && !value) {
        if (auto f = detail::expand_function(key, vars)) {
          if (f->error.empty()) {
            value = std::move(f->text);
          } else {
            unknown_name = std::string(key);
            if (out.error.empty()) out.error = std::move(f->error);
          }
        } else {
          unknown_name = std::string(key.substr(0, key.find(':')));
        }
      }
    } else {
      for (const auto& v : vars) {
        if (v.key != '\0' && v.key == t[i]) {
          found = &v.value;
          break;
        }
      }
      if (found == nullptr && t[i] == '%') value = "%";
      if (found == nullptr && !value) unknown_name = std::string(1, t[i]);
    }
    if (found == nullptr && !value) {
      out.text += "UNSUPPORTED_VARIABLE_" + unknown_name;
      out.unknown.push_back(std::move(unknown_name));
      continue;
    }
    if (modifiers.empty()) {
      append_shaped(out.text, found != nullptr ? *found : std::string_view(*value), shape);
      continue;
    }
    std::string v = found != nullptr ? std::string(*found) : std::move(*value);
    for (char m : modifiers) v = apply_modifier(m, std::move(v), shape);
    append_shaped(out.text, v, shape);
  }
  return out;
}

Expanded var_expand(std::string_view t, const VarTable& vars) {
  // Views of the table: on the stack for any table the server builds, on the heap beyond.
  constexpr size_t kInline = 32;
  std::array<VarRef, kInline> inline_refs;
  std::vector<VarRef> heap_refs;
  std::span<VarRef> refs;
  if (vars.size() <= kInline) {
    refs = std::span<VarRef>(inline_refs.data(), vars.size());
  } else {
    heap_refs.resize(vars.size());
    refs = heap_refs;
  }
  for (size_t i = 0; i < vars.size(); ++i) refs[i] = {vars[i].key, vars[i].name, vars[i].value};
  return var_expand(t, VarRefs(refs));
}

size_t braced_variable_length(std::string_view s, size_t i) {
  size_t j = i + 1;
  while (j < s.size() && (s[j] == '-' || s[j] == '.' || (s[j] >= '0' && s[j] <= '9'))) ++j;
  while (j < s.size() && kModifiers.find(s[j]) != std::string_view::npos) ++j;
  if (j >= s.size() || s[j] != '{') return 0;
  for (int depth = 0; j < s.size(); ++j) {
    if (s[j] == '{') ++depth;
    if (s[j] == '}' && --depth == 0) return j + 1 - i;
  }
  return 0;
}

std::string describe_failure(const Expanded& e) {
  std::string names;
  for (const auto& u : e.unknown) names += (names.empty() ? "%" : ", %") + (u.size() == 1 ? u : "{" + u + "}");
  std::string out = "unknown variable " + names;
  if (!e.error.empty()) out += " (" + e.error + ")";
  return out;
}

namespace detail {

std::optional<std::string> lookup_long_value(std::string_view key, VarRefs vars) {
  if (const std::string_view* v = find_long(vars, key)) return std::string(*v);
  return lookup_builtin(key, vars);
}

}  // namespace detail

std::array<VarRef, 4> user_var_refs(std::string_view user, std::string_view home) {
  auto at = user.rfind('@');
  std::string_view username = at == std::string_view::npos ? user : user.substr(0, at);
  std::string_view domain = at == std::string_view::npos ? std::string_view{} : user.substr(at + 1);
  return {VarRef{'u', "user", user}, VarRef{'n', "username", username}, VarRef{'d', "domain", domain},
          VarRef{'h', "home", home}};
}

VarTable user_vars(std::string_view user, std::string_view home) {
  VarTable table;
  table.reserve(8);  // callers add a few of their own: one allocation for the table
  for (const VarRef& r : user_var_refs(user, home)) table.push_back({r.key, r.name, std::string(r.value)});
  return table;
}

std::string expand_home(std::string_view path, std::string_view home) {
  if (path == "~") return std::string(home);
  if (path.starts_with("~/")) return std::string(home) + std::string(path.substr(1));
  return std::string(path);
}

}  // namespace dovetail::base
