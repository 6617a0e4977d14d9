// settings_source.hpp — where the daemon's settings come from, and SIGHUP reload.
//
// Purpose: owns the current parsed config; hands each new connection an immutable snapshot
// resolved for (protocol lmtp, local ip, remote ip). reload() swaps in a new config only when
// it parses and checks cleanly; otherwise the old one stays and the error is returned.
// "Cleanly" includes the listeners: load() and reload() refuse a config whose `service lmtp`
// listeners are invalid or whose `protocols` lacks lmtp (lmtpd/listeners.hpp), with file:line.
// The config room caches snapshots per set of matching filter blocks, so ten thousand
// connections share a few Settings objects instead of owning one each.
// Depends on: config. Error contract: kConfig errors "file:line: message". Threading:
// for_connection() and reload() are thread-safe (reload may run while connections start).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.hpp"
#include "config/config.hpp"
#include "config/settings.hpp"

namespace dovetail::lmtpd {

class SettingsSource {
 public:
  // path empty = the embedded default configuration.
  [[nodiscard]] static base::Result<std::unique_ptr<SettingsSource>> load(const std::string& path);

  // Settings for `protocol lmtp` without local/remote filters (listeners, limits, logging).
  config::SettingsPtr lmtp() const;
  // Settings outside any protocol filter (log paths unless `executable = lmtp -L`).
  config::SettingsPtr global() const;
  // Dovecot's top-level `listen` (default "*, ::"): addresses for inet_listeners naming none.
  std::string listen() const;
  config::SettingsPtr for_connection(const std::string& local_ip, const std::string& remote_ip);

  // Keys Dovecot knows that Dovetail does not act on, and non-fatal config warnings.
  std::vector<std::string> ignored_keys() const;
  std::vector<std::string> warnings() const;
  // Loads the file again; `validate` sees the candidate before it replaces the current one.
  [[nodiscard]] base::Status reload(
      const std::function<base::Status(const SettingsSource& candidate)>& validate = {});
  const std::string& path() const { return path_; }
  // config::Config::digest() of the current config.
  std::string digest() const;

  SettingsSource(std::string path, config::ConfigPtr config);

 private:
  config::ConfigPtr current() const;

  std::string path_;
  mutable std::mutex mutex_;
  config::ConfigPtr config_;
};

}  // namespace dovetail::lmtpd
