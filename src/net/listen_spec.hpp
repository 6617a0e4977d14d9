// listen_spec.hpp — what to listen on: an inet address:port or a UNIX socket path.
//
// Purpose: the neutral description the daemon builds from `service lmtp { inet_listener ..
// unix_listener .. }` and hands to net::Server. Parsing of Dovecot's address list
// (`*`, `::`, several addresses per listener) lives here so it is unit-tested without config.
// Depends on: base. Error contract: Result with kInvalidInput naming the bad address.
// Threading: plain values.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace dovetail::net {

struct ListenSpec {
  enum class Kind { kInet, kUnix };
  Kind kind = Kind::kInet;
  std::string name;      // listener section name, for messages
  std::string address;   // numeric IPv4/IPv6 address (kInet)
  unsigned port = 0;     // 0 = let the kernel choose (tests); the real port is reported
  std::string path;      // absolute socket path (kUnix)
  unsigned mode = 0600;  // kUnix: chmod after bind
  std::string user;      // kUnix: chown owner, "" = unchanged
  std::string group;     // kUnix: chown group, "" = unchanged

  // "127.0.0.1:2424", "[::1]:2424", "unix:/run/dovetail/lmtp"
  std::string describe() const;
};

// Dovecot's `address =` list -> numeric addresses. `*` = all IPv4 (0.0.0.0), `::` = all IPv6,
// `[::1]` brackets allowed, `localhost` = 127.0.0.1 and ::1; an empty list = `*, ::`.
// Duplicates are dropped, order kept.
[[nodiscard]] base::Result<std::vector<std::string>> expand_inet_addresses(
    const std::vector<std::string>& addresses);

// Dovecot's rule: a unix_listener path is relative to base_dir unless absolute.
std::string resolve_unix_path(const std::string& base_dir, const std::string& path);

}  // namespace dovetail::net
