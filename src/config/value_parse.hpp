// value_parse.hpp — Dovecot 2.3 value syntax for typed settings: booleans, numbers, sizes, times.
//
// Purpose: one place that knows "10M", "5 mins", "yes", "0666", and how doveconf prints them
// back ("10 M", "5 mins"), so `dovetail config` output compares key for key with `doveconf -n`.
// Depends on: std only. Error contract: parse_* return std::nullopt and set `error` to Dovecot's
// wording ("Invalid boolean value: x (use yes or no)"); never throw. Threading: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dovetail::config {

// How a Dovecot key's value is typed; inferred from its default text when no table row exists.
enum class ValueKind { kString, kBool, kUint, kOctal, kSize, kTime };

std::optional<bool> parse_bool(std::string_view v, std::string& error);
std::optional<unsigned> parse_uint(std::string_view v, std::string& error);
std::optional<unsigned> parse_octal(std::string_view v, std::string& error);
// Bytes; bare number = bytes; units B k M G T (optionally followed by B/iB), powers of 1024.
std::optional<uint64_t> parse_size(std::string_view v, std::string& error);
// Milliseconds; bare number = seconds; units ms/msecs, s/secs, m/mins, h/hours, d/days, w/weeks.
std::optional<std::chrono::milliseconds> parse_time(std::string_view v, std::string& error);

// doveconf's rendering: "1 mins", "10 M", "yes".
std::string format_size(uint64_t bytes);
std::string format_time(std::chrono::milliseconds t);
std::string format_bool(bool b);
std::string format_octal(unsigned v);

// Guesses the kind from Dovecot's default text ("2 secs" -> kTime, "10 M" -> kSize, ...).
ValueKind infer_kind(std::string_view default_text);
// Same, but a bare "0" default of a key named *_timeout, *_interval, *_delay, idle_kill or
// autoexpunge is a time (doveconf prints those as "1 mins" once set).
ValueKind infer_kind(std::string_view key, std::string_view default_text);
// Normalises `v` for display/comparison (as doveconf prints it); unparsable values unchanged.
std::string normalize(ValueKind kind, std::string_view v);

// Splits a list value ("imap pop3 lmtp", "a, b") on spaces and commas.
std::vector<std::string> split_list(std::string_view v);

}  // namespace dovetail::config
