// log_setup.hpp — Settings -> base::log configuration for the LMTP daemon.
//
// Purpose: Dovecot's rule for `service lmtp { executable = lmtp -L }`: with -L the log paths
// of `protocol lmtp {}` apply (e.g. a separate info_log_path for deliveries); without it the
// global ones do. mail_debug enables debug lines.
// Depends on: config, base. Threading: pure.
#pragma once

#include "base/log.hpp"
#include "config/settings.hpp"

namespace dovetail::lmtpd {

// `lmtp` = settings with the protocol lmtp filter applied; `global` = without it.
base::log::LogConfig log_config_for(const config::Settings& lmtp, const config::Settings& global);

// True when `service lmtp { executable }` carries -L.
bool uses_protocol_log_paths(const config::Settings& settings);

}  // namespace dovetail::lmtpd
