#include "net/listen_spec.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace dovetail::net {

std::string ListenSpec::describe() const {
  if (kind == Kind::kUnix) return "unix:" + path;
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

namespace {
bool is_ipv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}
bool is_ipv6(const std::string& s) {
  in6_addr a{};
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}
}  // namespace

base::Result<std::vector<std::string>> expand_inet_addresses(
    const std::vector<std::string>& addresses) {
  std::vector<std::string> in = addresses;
  // The config reader may hand the value unsplit ("127.0.0.1, ::1"): split on space/comma.
  std::vector<std::string> words;
  for (const auto& a : in) {
    std::string cur;
    for (char c : a) {
      if (c == ' ' || c == ',' || c == '\t') {
        if (!cur.empty()) words.push_back(std::move(cur));
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    if (!cur.empty()) words.push_back(std::move(cur));
  }
  if (words.empty()) words = {"*", "::"};
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (auto w : words) {
    if (w == "*") {
      add("0.0.0.0");
    } else if (w == "::" || w == "[::]") {
      add("::");
    } else if (w == "localhost") {
      add("127.0.0.1");
      add("::1");
    } else {
      if (w.size() >= 2 && w.front() == '[' && w.back() == ']') w = w.substr(1, w.size() - 2);
      if (!is_ipv4(w) && !is_ipv6(w))
        return base::fail(base::Error::invalid("invalid listener address '" + w +
                                               "' (use a numeric IPv4/IPv6 address, * or ::)"));
      add(w);
    }
  }
  return out;
}

std::string resolve_unix_path(const std::string& base_dir, const std::string& path) {
  if (!path.empty() && path.front() == '/') return path;
  if (base_dir.empty()) return path;
  if (base_dir.back() == '/') return base_dir + path;
  return base_dir + "/" + path;
}

}  // namespace dovetail::net
