// config_dump.hpp — `doveconf`-like output of a loaded Config (what `dovetail config` prints).
//
// Purpose: an admin diffs `dovetail config -n` against `doveconf -n`, so the layout is
// Dovecot's: `key = value`, keys sorted with sections interleaved by path (`service lmtp {`
// ... `}`, two-space indent), passdb/userdb in config order, filter blocks last, typed values
// normalised as doveconf prints them ("1 mins", "10 M"), secrets replaced by
// `# hidden, use -P to show it` unless show_secrets. kChanged also ends with one comment line
// per ignored key (`# ignored by dovetail: X`).
// Depends on: config. Error contract: dump_key returns Error::not_found for unknown keys.
// Threading: pure functions of an immutable Config.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "config/config.hpp"

namespace dovetail::config {

enum class DumpScope {
  kChanged,  // -n: settings that differ from Dovecot's defaults
  kAll,      // -a: every setting, defaults included
};
enum class ShowSecrets { kNo, kYes };

std::string dump_config(const Config& config, DumpScope scope, ShowSecrets secrets);

// -h KEY: one value, unhidden, as written ("service/lmtp/process_min_avail", "plugin/sieve",
// "mail_location"); defaults for keys not set.
base::Result<std::string> dump_key(const Config& config, std::string_view key);

}  // namespace dovetail::config
