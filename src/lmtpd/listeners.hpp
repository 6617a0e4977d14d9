// listeners.hpp — `service lmtp { inet_listener … unix_listener … }` -> net::ListenSpec list.
//
// Purpose: Dovecot's listener rules in one tested function: several inet_listeners, each
// with several addresses (`*` = all IPv4, `::` = all IPv6, empty = `listen`) and one port;
// unix_listeners relative to base_dir unless absolute; the default `$base_dir/lmtp`
// (mode 0666, as Dovecot's lmtp service) whenever `protocols` contains lmtp.
// Dovetail difference: `port = 0` binds a kernel-chosen port (and the daemon prints it)
// instead of disabling the listener — tests rely on it; see docs/config.md.
// Depends on: config (Settings), net (ListenSpec). Error contract: kConfig naming the bad value,
// prefixed with the "file:line: " of the assignment at fault when the settings know it
// (Settings::origin, InetListener::origin); `protocols` without lmtp is an error (nothing to
// serve).
// Threading: pure.
#pragma once

#include <vector>

#include "base/result.hpp"
#include "config/settings.hpp"
#include "net/listen_spec.hpp"

namespace dovetail::lmtpd {

// `listen` is Dovecot's top-level `listen` setting: the addresses of an inet_listener that
// names none (default "*, ::"); an error in it is reported at settings.origin["listen"].
[[nodiscard]] base::Result<std::vector<net::ListenSpec>> listeners_from_settings(
    const config::Settings& settings, const std::string& listen = "*, ::");

}  // namespace dovetail::lmtpd
