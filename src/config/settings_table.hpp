// settings_table.hpp — settings as data: one row per key (name, member, type, allowed values).
//
// Purpose: the only place that maps a Dovecot key to a member of Settings (or Service,
// InetListener, UnixListener, AuthDb). A row's type comes from its member pointer (string,
// bool, unsigned, size = uint64_t, time = Millis, list = vector<string>); defaults are the
// member initialisers of settings.hpp; `allowed` is the per-key check. Cross-key rules live in
// check(). Keys Dovecot knows but that have no row here are "ignored" (accepted, listed), and
// so are rows marked no_effect: parsed and type-checked, but no code acts on them yet.
// Depends on: base (Result), std. Error contract: apply_row returns Dovecot-worded messages
// without "file:line" (the reader adds it). Threading: tables are immutable statics.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.hpp"
#include "config/settings.hpp"
#include "config/value_parse.hpp"

namespace dovetail::config {

template <class S>
struct Row {
  using Member = std::variant<std::string S::*, bool S::*, unsigned S::*, uint64_t S::*, Millis S::*,
                              std::vector<std::string> S::*>;
  std::string_view name;
  Member member;
  std::vector<std::string_view> allowed = {};  // non-empty: the value must be one of these
  bool octal = false;                          // unsigned written in octal (unix_listener mode)
  bool dovetail_only = false;                  // Dovetail's own key: Dovecot 2.3 lacks it
  // Parsed and type-checked, but nothing outside src/config acts on it yet: an assignment is
  // listed as ignored (`dovetail config -n`, the serve start-up warning) like an unknown-to-us
  // Dovecot key, so nobody believes it works. Clear it in the commit that makes it work.
  bool no_effect = false;
};

const std::vector<Row<Settings>>& settings_rows();
const std::vector<Row<Service>>& service_rows();
const std::vector<Row<InetListener>>& inet_listener_rows();
const std::vector<Row<UnixListener>>& unix_listener_rows();
const std::vector<Row<AuthDb>>& authdb_rows();

template <class S>
const Row<S>* find_row(const std::vector<Row<S>>& rows, std::string_view name) {
  for (const auto& r : rows)
    if (r.name == name) return &r;
  return nullptr;
}

template <class S>
ValueKind row_kind(const Row<S>& row) {
  switch (row.member.index()) {
    case 1: return ValueKind::kBool;
    case 2: return row.octal ? ValueKind::kOctal : ValueKind::kUint;
    case 3: return ValueKind::kSize;
    case 4: return ValueKind::kTime;
    default: return ValueKind::kString;
  }
}

// Parses `value` into the row's member; nullopt on success, else the error message.
template <class S>
std::optional<std::string> apply_row(S& s, const Row<S>& row, std::string_view value) {
  std::string err;
  if (!row.allowed.empty()) {
    bool ok = false;
    for (auto a : row.allowed) ok = ok || a == value;
    if (!ok) return "Invalid value: " + std::string(value);
  }
  switch (row.member.index()) {
    case 0: s.*std::get<0>(row.member) = std::string(value); return std::nullopt;
    case 1:
      if (auto b = parse_bool(value, err)) { s.*std::get<1>(row.member) = *b; return std::nullopt; }
      return err;
    case 2: {
      auto u = row.octal ? parse_octal(value, err) : parse_uint(value, err);
      if (u) { s.*std::get<2>(row.member) = *u; return std::nullopt; }
      return err;
    }
    case 3:
      if (auto z = parse_size(value, err)) { s.*std::get<3>(row.member) = *z; return std::nullopt; }
      return err;
    case 4:
      if (auto t = parse_time(value, err)) { s.*std::get<4>(row.member) = *t; return std::nullopt; }
      return err;
    default: s.*std::get<5>(row.member) = split_list(value); return std::nullopt;
  }
}

// The member's current value as doveconf would print it.
template <class S>
std::string format_row(const S& s, const Row<S>& row) {
  switch (row.member.index()) {
    case 0: return s.*std::get<0>(row.member);
    case 1: return format_bool(s.*std::get<1>(row.member));
    case 2: return row.octal ? format_octal(s.*std::get<2>(row.member)) : std::to_string(s.*std::get<2>(row.member));
    case 3: return format_size(s.*std::get<3>(row.member));
    case 4: return format_time(s.*std::get<4>(row.member));
    default: {
      std::string out;
      for (const auto& x : s.*std::get<5>(row.member)) out += (out.empty() ? "" : " ") + x;
      return out;
    }
  }
}

// Cross-key validation of a finished snapshot (message names the key).
base::Status check(const Settings& s);

}  // namespace dovetail::config
