// dovecot_keys.hpp — what Dovecot 2.3 itself knows: its keys, their defaults, its built-in services.
//
// Purpose: the reader accepts exactly the keys Dovecot accepts ("Unknown setting: X" otherwise)
// and `dovetail config -n` compares against Dovecot's own defaults. The data is generated from
// `doveconf -a` by src/config/gen-dovecot-keys into dovecot_keys.inc (see its header).
// Depends on: std only. Error contract: lookups return nullptr/empty when unknown.
// Threading: immutable static tables, safe from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/value_parse.hpp"

namespace dovetail::config {

struct DovecotKey {
  std::string_view name;
  std::string_view default_value;  // as doveconf -a prints it ("1 mins", "10 M", "yes")
  ValueKind kind;                  // inferred from the default
};

// Top-level key, or nullptr when Dovecot 2.3 does not know it.
const DovecotKey* find_dovecot_setting(std::string_view name);
// All top-level keys, sorted by name.
const std::vector<DovecotKey>& dovecot_settings();

// Keys of a section type (service, inet_listener, unix_listener, fifo_listener, passdb, userdb,
// namespace, mailbox), sorted; empty for unknown/free-form types.
const std::vector<DovecotKey>& dovecot_section_keys(std::string_view type);
const DovecotKey* find_dovecot_section_key(std::string_view type, std::string_view key);

// Dovecot's built-in services: one row per key ({"lmtp", "unix_listener", "lmtp", "mode", "0666"});
// listener_type is "" for the service's own keys. Listener names may contain '/'.
struct BuiltinServiceKey {
  std::string_view service, listener_type, listener_name, key, value;
};
const std::vector<BuiltinServiceKey>& dovecot_builtin_services();

// The version string of the Dovecot the tables were generated from.
std::string_view dovecot_keys_version();

}  // namespace dovetail::config
