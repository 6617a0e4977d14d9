// config_tree.hpp — the parsed Dovecot config before it becomes typed Settings.
//
// Purpose: what the grammar reader (config_parser) produces and what the doveconf-like dump
// prints: every assignment keeps both the text doveconf -n would show (`raw`) and the value
// Dovetail acts on (`value`: $variables expanded, `<file` read), plus its file:line.
// Global settings live in `root`; each distinct protocol/local/remote filter in one
// FilterBlock. Depends on: std only. Threading: built once by the parser, then read-only.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dovetail::config {

struct Assignment {
  std::string key;
  std::string raw;    // as doveconf -n prints it: "<path" for file values, only $key self-refs expanded
  std::string value;  // effective value: all $vars expanded, <file contents read
  std::string file;
  unsigned line = 0;
};

struct Section {
  std::string type;  // "" for the root and filter bodies; "service", "inet_listener", "passdb", ...
  std::string name;  // "" when the section has none
  std::string file;
  unsigned line = 0;
  std::vector<Assignment> keys;    // one per key, first-assignment order; later ones replace
  std::vector<Section> children;   // sub-sections in config order

  const Assignment* find(std::string_view key) const {
    for (const auto& a : keys)
      if (a.key == key) return &a;
    return nullptr;
  }
  void set(Assignment a) {
    for (auto& k : keys)
      if (k.key == a.key) {
        k = std::move(a);
        return;
      }
    keys.push_back(std::move(a));
  }
};

// An address with prefix length: `local 10.0.0.0/8`, `remote ::1`.
struct IpNet {
  std::string text;                  // as written
  bool v6 = false;
  std::array<uint8_t, 16> addr{};
  unsigned bits = 0;
  static std::optional<IpNet> parse(std::string_view text);
  bool contains(std::string_view ip) const;  // false for unparsable ip
};

struct FilterSpec {
  std::string protocol;          // "" = any; "!imap" = anything but imap
  std::string local_name;        // `local_name NAME {}` (TLS SNI); "" = any
  std::optional<IpNet> local;
  std::optional<IpNet> remote;
  bool same_as(const FilterSpec& o) const;
  // Sort key: less specific first (local bits, then remote bits, then protocol), as Dovecot.
  bool less_specific_than(const FilterSpec& o) const;
};

struct FilterBlock {
  FilterSpec spec;
  Section body;
};

struct ConfigTree {
  std::string source;              // the top file path or the name given to load_config_string
  Section root;
  std::deque<FilterBlock> filters;  // deque: stable addresses while the parser nests filters
  std::vector<std::string> warnings;  // "file:line: message" for problems that are not fatal
  // Every file the parse read (path and bytes, in reading order, `!include`d and `key = <file`
  // ones too), framed; Config::digest() hashes it only when asked, so that `dovetail deliver`
  // never pays for initialising OpenSSL (~5 million instructions, callgrind).
  std::string inputs;
};

}  // namespace dovetail::config
