// settings_builder.hpp — ConfigTree -> typed Settings (internal to the config room).
//
// Purpose: applies the assignments and sections of one tree body (the root, or a filter
// block on top of the root's result) to a Settings through the row tables, and names every
// key Dovecot knows but Dovetail does not act on ("ignored").
// Depends on: config_tree, settings_table. Error contract: Error::config "file:line: message".
// Threading: pure functions over their arguments.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "config/config_tree.hpp"
#include "config/settings.hpp"

namespace dovetail::config {

// Settings{} plus what Dovecot has built in before any config is read:
// service lmtp { executable = lmtp  client_limit = 1  unix_listener lmtp { mode = 0666 } }.
Settings default_settings();

// Applies `body` to `s`. When `ignored` is non-null, appends (once each) the names of keys and
// sections that are accepted but not acted on, e.g. "imap_idle_notify_interval",
// "service/imap-login", "service/lmtp/vsz_limit", "namespace/inbox", and assigned keys whose
// row is marked no_effect ("lmtp_rcpt_check_quota", "service/lmtp/process_min_avail").
base::Status apply_body(Settings& s, const Section& body, std::vector<std::string>* ignored);

}  // namespace dovetail::config
