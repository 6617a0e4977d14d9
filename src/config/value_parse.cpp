#include "config/value_parse.hpp"

#include <cctype>
#include <charconv>
#include <limits>

namespace dovetail::config {
namespace {

std::string_view trim(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return v;
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Leading decimal number and the (trimmed) unit after it.
bool split_number(std::string_view v, uint64_t& num, std::string_view& unit) {
  v = trim(v);
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), num);
  if (ec != std::errc() || p == v.data()) return false;
  unit = trim(std::string_view(p, static_cast<size_t>(v.data() + v.size() - p)));
  return true;
}

bool mul_ok(uint64_t a, uint64_t b, uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}

}  // namespace

std::optional<bool> parse_bool(std::string_view v, std::string& error) {
  v = trim(v);
  if (ieq(v, "yes") || ieq(v, "y") || v == "1") return true;
  if (ieq(v, "no") || ieq(v, "n") || v == "0") return false;
  error = "Invalid boolean value: " + std::string(v) + " (use yes or no)";
  return std::nullopt;
}

std::optional<unsigned> parse_uint(std::string_view v, std::string& error) {
  v = trim(v);
  unsigned out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) {
    error = "Invalid number " + std::string(v) + ": Not a valid number";
    return std::nullopt;
  }
  return out;
}

std::optional<unsigned> parse_octal(std::string_view v, std::string& error) {
  v = trim(v);
  unsigned out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, 8);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) {
    error = "Invalid number " + std::string(v) + ": Not a valid octal number";
    return std::nullopt;
  }
  return out;
}

std::optional<uint64_t> parse_size(std::string_view v, std::string& error) {
  uint64_t n = 0;
  std::string_view unit;
  if (!split_number(v, n, unit)) {
    error = "Invalid size: " + std::string(trim(v));
    return std::nullopt;
  }
  uint64_t mul = 0;
  if (unit.empty() || ieq(unit, "B")) mul = 1;
  else {
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0])));
    std::string_view rest = unit.substr(1);
    if (!(rest.empty() || ieq(rest, "B") || ieq(rest, "iB"))) c = '?';
    switch (c) {
      case 'K': mul = 1ull << 10; break;
      case 'M': mul = 1ull << 20; break;
      case 'G': mul = 1ull << 30; break;
      case 'T': mul = 1ull << 40; break;
      default: break;
    }
  }
  uint64_t out = 0;
  if (mul == 0 || !mul_ok(n, mul, out)) {
    error = "Invalid size: " + std::string(trim(v));
    return std::nullopt;
  }
  return out;
}

std::optional<std::chrono::milliseconds> parse_time(std::string_view v, std::string& error) {
  uint64_t n = 0;
  std::string_view unit;
  uint64_t mul = 0;
  if (split_number(v, n, unit)) {
    struct U { std::string_view name; uint64_t ms; };
    static constexpr U units[] = {
        {"ms", 1}, {"msec", 1}, {"msecs", 1}, {"millisecond", 1}, {"milliseconds", 1},
        {"", 1000}, {"s", 1000}, {"sec", 1000}, {"secs", 1000}, {"second", 1000}, {"seconds", 1000},
        {"m", 60000}, {"min", 60000}, {"mins", 60000}, {"minute", 60000}, {"minutes", 60000},
        {"h", 3600000}, {"hour", 3600000}, {"hours", 3600000},
        {"d", 86400000}, {"day", 86400000}, {"days", 86400000},
        {"w", 604800000}, {"week", 604800000}, {"weeks", 604800000}};
    for (const auto& u : units)
      if (ieq(unit, u.name)) mul = u.ms;
  }
  uint64_t out = 0;
  if (mul == 0 || !mul_ok(n, mul, out) || out > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    error = "Invalid time interval: " + std::string(trim(v));
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(out));
}

std::string format_size(uint64_t bytes) {
  static constexpr const char* units[] = {"B", "k", "M", "G", "T"};
  int i = 0;
  while (i < 4 && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++i;
  }
  return std::to_string(bytes) + " " + units[i];
}

std::string format_time(std::chrono::milliseconds t) {
  auto ms = static_cast<uint64_t>(t.count());
  if (ms == 0) return "0";
  if (ms % 1000 != 0) return std::to_string(ms) + " ms";
  uint64_t s = ms / 1000;
  if (s % 604800 == 0) return std::to_string(s / 604800) + " weeks";
  if (s % 86400 == 0) return std::to_string(s / 86400) + " days";
  if (s % 3600 == 0) return std::to_string(s / 3600) + " hours";
  if (s % 60 == 0) return std::to_string(s / 60) + " mins";
  return std::to_string(s) + " secs";
}

std::string format_bool(bool b) { return b ? "yes" : "no"; }

std::string format_octal(unsigned v) {
  char buf[16];
  auto [p, ec] = std::to_chars(buf + 1, buf + sizeof buf, v, 8);
  (void)ec;
  buf[0] = '0';
  return std::string(buf, p);
}

ValueKind infer_kind(std::string_view d) {
  if (d == "yes" || d == "no") return ValueKind::kBool;
  uint64_t n = 0;
  std::string_view unit;
  if (!split_number(d, n, unit)) return ValueKind::kString;
  if (unit.empty()) return d.size() > 1 && d[0] == '0' ? ValueKind::kOctal : ValueKind::kUint;
  if (unit == "B" || unit == "k" || unit == "M" || unit == "G" || unit == "T") return ValueKind::kSize;
  if (unit == "ms" || unit == "secs" || unit == "mins" || unit == "hours" || unit == "days" || unit == "weeks")
    return ValueKind::kTime;
  return ValueKind::kString;
}

ValueKind infer_kind(std::string_view key, std::string_view d) {
  ValueKind k = infer_kind(d);
  if (k == ValueKind::kUint && d == "0" &&
      (key.ends_with("_timeout") || key.ends_with("_interval") || key.ends_with("_delay") || key == "idle_kill" ||
       key == "autoexpunge"))
    return ValueKind::kTime;
  return k;
}

std::string normalize(ValueKind kind, std::string_view v) {
  std::string err;
  switch (kind) {
    case ValueKind::kBool:
      if (auto b = parse_bool(v, err)) return format_bool(*b);
      break;
    case ValueKind::kUint:
      if (auto u = parse_uint(v, err)) return std::to_string(*u);
      break;
    case ValueKind::kOctal:
      if (auto u = parse_octal(v, err)) return format_octal(*u);
      break;
    case ValueKind::kSize:
      if (auto s = parse_size(v, err)) return format_size(*s);
      break;
    case ValueKind::kTime:
      if (auto t = parse_time(v, err)) return format_time(*t);
      break;
    case ValueKind::kString:
      break;
  }
  return std::string(v);
}

std::vector<std::string> split_list(std::string_view v) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : v) {
    if (c == ' ' || c == ',' || c == '\t') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace dovetail::config
