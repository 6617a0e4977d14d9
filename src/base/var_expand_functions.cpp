#include "base/var_expand_functions.hpp"

#include <regex.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <vector>

#include "base/digest.hpp"

namespace dovetail::base::detail {
namespace {

FunctionValue failed(std::string why) { return {.text = {}, .error = std::move(why)}; }

// Digits only, no sign, fits 32 bits: Dovecot's str_to_uint().
std::optional<unsigned> parse_uint(std::string_view s) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || s[0] == '-' || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

// An optional '-', then digits, fitting 64 bits: Dovecot's str_to_intmax().
std::optional<int64_t> parse_int(std::string_view s) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

// Keeps the first `bits` bits of `bytes`, right-aligned in the fewest whole bytes.
void truncate_bits(std::string& bytes, unsigned bits) {
  const size_t keep = (bits + 7) / 8;
  bytes.resize(keep);
  const unsigned shift = static_cast<unsigned>(keep * 8 - bits);
  if (shift == 0) return;
  for (size_t i = keep; i-- > 0;) {
    const auto cur = static_cast<unsigned char>(bytes[i]);
    const auto prev = i > 0 ? static_cast<unsigned char>(bytes[i - 1]) : 0u;
    bytes[i] = static_cast<char>((cur >> shift) | (prev << (8 - shift)));
  }
}

// "md5;rounds=2,salt=x:user" → the digest of the field, formatted.
FunctionValue hash_function(std::string_view method, std::string_view options, std::string_view field,
                            VarRefs vars) {
  unsigned rounds = 1;
  unsigned truncate = 0;
  enum class Format { kHex, kBase64 } format = Format::kHex;
  std::string salt;
  while (!options.empty()) {
    const size_t comma = options.find(',');
    const std::string_view opt = options.substr(0, comma);
    options = comma == std::string_view::npos ? std::string_view{} : options.substr(comma + 1);
    const size_t eq = opt.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = opt.substr(0, eq), value = opt.substr(eq + 1);
    if (name == "rounds") {
      auto n = parse_uint(value);
      if (!n) return failed("Cannot parse hash arguments:'" + std::string(value) + "' is not number for rounds");
      if (*n < 1) return failed("Cannot parse hash arguments:rounds must be at least 1");
      rounds = *n;
    } else if (name == "truncate") {
      auto n = parse_uint(value);
      if (!n) return failed("Cannot parse hash arguments:'" + std::string(value) + "' is not number for truncbits");
      truncate = *n;
    } else if (name == "format") {
      if (value == "hex" || value == "hexuc") format = Format::kHex;  // hexuc: lower case, as Dovecot 2.3.19 prints it
      else if (value == "base64") format = Format::kBase64;
      else return failed("Cannot parse hash arguments:'" + std::string(value) + "' is not supported format");
    } else if (name == "salt") {
      // Dovecot stops reading options at the salt, whose value (up to the next comma) is a template.
      Expanded s = var_expand(value, vars);
      if (!s.unknown.empty()) return failed(!s.error.empty() ? s.error : "unknown variable in salt: " + s.unknown.front());
      salt = std::move(s.text);
      break;
    }
  }
  auto value = lookup_long_value(field, vars);
  if (!value) return failed("unknown variable %{" + std::string(field) + "}");
  std::string h = std::move(*value);
  for (unsigned r = 0; r < rounds; ++r) {
    auto d = digest(method, salt + h);
    if (!d) return failed(std::string(method) + ": digest failed");
    h = std::move(*d);
  }
  if (truncate > 0 && truncate < h.size() * 8) truncate_bits(h, truncate);
  return {.text = format == Format::kBase64 ? to_base64(h) : to_hex(h), .error = {}};
}

// Splits at ';' outside nested %{...}; a ';' or ':' right after a backslash does not count.
// Stops at a top-level ':' (Dovecot ends the argument list there).
std::vector<std::string_view> split_if_args(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool escaped = i > 0 && s[i - 1] == '\\';
    if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (depth > 0) --depth;
    } else if (depth == 0 && c == ':' && !escaped) {
      s = s.substr(0, i);
      break;
    } else if (depth == 0 && c == ';' && !escaped) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(std::min(start, s.size())));
  return out;
}

// Dovecot drops every backslash of an argument (`\\;` is ";", `\n` is "n").
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '\\') out.push_back(c);
  return out;
}

// `*` any run, `?` one character; case-sensitive.
bool wildcard_match(std::string_view text, std::string_view mask) {
  size_t t = 0, m = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (m < mask.size() && (mask[m] == '?' || mask[m] == text[t])) {
      ++t;
      ++m;
    } else if (m < mask.size() && mask[m] == '*') {
      star = m++;
      mark = t;
    } else if (star != std::string_view::npos) {
      m = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (m < mask.size() && mask[m] == '*') ++m;
  return m == mask.size();
}

// glibc's regcomp() builds repetitions by copying the repeated part: `b+++…+` or nested
// `((a{9}){9}){9}` make it allocate gigabytes (found by tests/fuzz/var_expand_fuzz.cpp), and
// this runs for every recipient. An estimate of the compiled size, counted the same way
// (a repeated part costs its size times the bound), refuses such a pattern before it is
// compiled; so does a repetition of a repetition, which POSIX leaves undefined.
std::optional<std::string> regex_too_costly(std::string_view p) {
  constexpr uint64_t kLimit = 4096;
  struct Frame {
    uint64_t size = 0;  // the weight of everything in this group so far
    uint64_t last = 0;  // the weight of the last atom or group (what a quantifier repeats)
  };
  std::vector<Frame> stack(1);
  bool after_quantifier = false;
  auto atom = [&](uint64_t weight) {
    stack.back().last = weight;
    stack.back().size += weight;
    after_quantifier = false;
  };
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    uint64_t factor = 0;  // set for a quantifier
    if (c == '\\') {
      ++i;
      atom(1);
    } else if (c == '[') {  // a bracket expression is one atom; `]` first is literal
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;
      while (j < p.size() && p[j] != ']') ++j;
      i = j;
      atom(1);
    } else if (c == '(') {
      stack.emplace_back();
      after_quantifier = false;
    } else if (c == ')' && stack.size() > 1) {
      const uint64_t inner = stack.back().size;
      stack.pop_back();
      atom(inner);
    } else if (c == '|') {
      stack.back().last = 0;
      after_quantifier = false;
    } else if (c == '*' || c == '+' || c == '?') {
      factor = 2;
    } else if (c == '{') {
      uint64_t low = 0, high = 0;
      bool comma = false, any = false;
      size_t j = i + 1;
      for (; j < p.size() && p[j] != '}'; ++j) {
        if (p[j] == ',') {
          comma = true;
        } else if (p[j] >= '0' && p[j] <= '9') {
          uint64_t& bound = comma ? high : low;
          bound = std::min<uint64_t>(bound * 10 + static_cast<uint64_t>(p[j] - '0'), kLimit + 1);
          any = true;
        }
      }
      if (!any) {
        atom(1);  // not an interval: a literal '{'
        continue;
      }
      i = j;
      factor = std::max(low, high) + 1;
    } else {
      atom(1);
    }
    if (factor != 0) {
      if (after_quantifier) return "a repetition of a repetition";
      Frame& f = stack.back();
      f.size += f.last * (factor - 1);
      f.last *= factor;
      after_quantifier = true;
    }
    if (stack.back().size > kLimit || stack.back().last > kLimit) return "the pattern would compile too large";
  }
  return std::nullopt;
}

// The comparison of %{if}; nullopt + `error` when it cannot be made.
std::optional<bool> compare(std::string_view a, std::string_view op, std::string_view b, std::string& error) {
  if (op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
    auto x = parse_int(a);
    if (!x) return error = "if: " + std::string(a) + " (lhs) is not a number", std::nullopt;
    auto y = parse_int(b);
    if (!y) return error = "if: " + std::string(b) + " (rhs) is not a number", std::nullopt;
    if (op == "==") return *x == *y;
    if (op == "!=") return *x != *y;
    if (op == "<") return *x < *y;
    if (op == "<=") return *x <= *y;
    if (op == ">") return *x > *y;
    return *x >= *y;
  }
  if (op == "eq") return a == b;
  if (op == "ne") return a != b;
  if (op == "lt") return a < b;
  if (op == "le") return a <= b;
  if (op == "gt") return a > b;
  if (op == "ge") return a >= b;
  if (op == "*") return wildcard_match(a, b);
  if (op == "!*") return !wildcard_match(a, b);
  if (op == "~" || op == "!~") {
    if (auto why = regex_too_costly(b)) return error = "if: regex failed: " + *why, std::nullopt;
    regex_t re;
    const std::string pattern(b);
    if (int rc = ::regcomp(&re, pattern.c_str(), REG_EXTENDED | REG_NOSUB); rc != 0) {
      char msg[256];
      ::regerror(rc, &re, msg, sizeof msg);
      return error = std::string("if: regex failed: ") + msg, std::nullopt;
    }
    const std::string subject(a);
    const bool match = ::regexec(&re, subject.c_str(), 0, nullptr, 0) == 0;
    ::regfree(&re);
    return op == "~" ? match : !match;
  }
  return error = "if: Unsupported comparator '" + std::string(op) + "'", std::nullopt;
}

FunctionValue if_function(std::string_view args, VarRefs vars) {
  if (args.empty() || args.front() == ':') return failed("if: missing parameter(s)");
  const auto raw = split_if_args(args.substr(1));
  if (raw.size() != 4 && raw.size() != 5)
    return failed("if: requires four or five parameters, got " + std::to_string(raw.size()));
  std::vector<std::string> p;
  p.reserve(raw.size());
  for (std::string_view r : raw) {  // every argument is expanded, the unused branch too (Dovecot)
    Expanded e = var_expand(unescape(r), vars);
    if (!e.unknown.empty()) return failed(!e.error.empty() ? e.error : "unknown variable %" + e.unknown.front());
    p.push_back(std::move(e.text));
  }
  std::string error;
  auto verdict = compare(p[0], p[1], p[2], error);
  if (!verdict) return failed(std::move(error));
  if (*verdict) return {.text = std::move(p[3]), .error = {}};
  return {.text = p.size() == 5 ? std::move(p[4]) : std::string(), .error = {}};
}

std::optional<FunctionValue> expand_function_at_depth(std::string_view key, VarRefs vars) {
  if (key.starts_with("if") && (key.size() == 2 || key[2] == ';' || key[2] == ':')) return if_function(key.substr(2), vars);
  const size_t colon = key.find(':');
  const std::string_view head = key.substr(0, colon);
  const std::string_view method = head.substr(0, head.find(';'));
  if (method == "md4" || method == "pkcs5")
    return failed("%{" + std::string(method) + ":...} is not supported by Dovetail (docs/config.md)");
  if (!is_digest_method(method)) return std::nullopt;
  if (colon == std::string_view::npos || colon + 1 == key.size())
    return failed("%{" + std::string(method) + "} names no variable to hash");
  const std::string_view options = method.size() < head.size() ? head.substr(method.size() + 1) : std::string_view{};
  return hash_function(method, options, key.substr(colon + 1), vars);
}

}  // namespace

std::optional<FunctionValue> expand_function(std::string_view key, VarRefs vars) {
  // Functions expand their arguments as templates, which may hold functions: bound the depth
  // so that a hostile template cannot exhaust the stack.
  thread_local int depth = 0;
  if (depth >= 16) return failed("%{...} nested more than 16 deep");
  struct Level {
    Level() { ++depth; }
    ~Level() { --depth; }
  } level;
  return expand_function_at_depth(key, vars);
}

}  // namespace dovetail::base::detail
