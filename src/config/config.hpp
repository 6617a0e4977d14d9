// config.hpp — load a Dovecot 2.3 config once, resolve it per connection into immutable Settings.
//
// Purpose: the public face of the config room.
//   auto cfg = load_config_file("/etc/dovetail/dovetail.conf");      // Result<ConfigPtr>
//   SettingsPtr s = (*cfg)->resolve({.protocol = "lmtp", .local_ip = "10.0.0.1", .remote_ip = peer});
// Global settings come from the file's top level; `protocol NAME {}`, `local IP[/bits] {}` and
// `remote IP[/bits] {}` blocks override them for matching connections, the more specific block
// winning (local bits, then remote bits, then protocol — Dovecot's order).
// Depends on: base, config internals (parser, tables). Error contract: load_* return
// Error::config "file:line: message" (Dovecot's wording, e.g. "Unknown setting: X"); resolve()
// cannot fail (every filter is validated at load time).
// Threading: a Config is immutable after load and may be shared by all threads; resolve() is
// thread-safe and cheap: snapshots are cached per distinct set of matching filter blocks, so a
// connection costs a few IP comparisons and a shared_ptr copy.
// Security: reads the files named by !include and `key = <path` with the caller's privileges;
// the daemon loads config before dropping privileges.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "config/config_tree.hpp"
#include "config/settings.hpp"

namespace dovetail::config {

// Who is connecting: selects the protocol/local/remote filter blocks that apply.
struct Filter {
  std::string protocol = "lmtp";
  std::string local_ip;   // "" = unknown (matches no local block)
  std::string remote_ip;  // "" = unknown (matches no remote block); a UNIX socket peer has none
};

class Config {
 public:
  // Use load_config_file / load_config_string.
  Config(ConfigTree tree, SettingsPtr global, std::vector<std::string> ignored);

  // The snapshot for one connection. Never null.
  SettingsPtr resolve(const Filter& filter) const;
  // Settings with no filter block applied (what `dovetail config -a` shows at the top level).
  const SettingsPtr& global() const { return global_; }
  // Keys and sections Dovecot knows but Dovetail does not act on, in first-seen order
  // ("imap_idle_notify_interval", "service/imap-login", "namespace/inbox", ...).
  const std::vector<std::string>& ignored_keys() const { return ignored_; }
  // Non-fatal problems, "file:line: message": an unreadable `ssl_* = <file` (value left empty;
  // TLS setup must refuse an empty certificate); `lmtp_proxy = yes`, which only defers the
  // recipients it would proxy (printed once at `serve` start-up and by `dovetail config`).
  const std::vector<std::string>& warnings() const { return tree_.warnings; }
  // The file given to load_config_file, or the name given to load_config_string.
  const std::string& source_path() const { return tree_.source; }
  // Hex SHA-256 of the bytes this config was parsed from (config_tree.hpp): the privileged
  // writer, which reads the same file itself, checks that it read what the daemon read.
  // Computed on first use.
  const std::string& digest() const;
  // The parsed form, for the doveconf-like dump (config_dump.hpp).
  const ConfigTree& tree() const { return tree_; }

 private:
  ConfigTree tree_;
  SettingsPtr global_;
  std::vector<std::string> ignored_;
  mutable std::mutex mu_;
  mutable std::map<std::vector<size_t>, SettingsPtr> cache_;  // matching block indices -> snapshot
  mutable std::once_flag digest_once_;
  mutable std::string digest_;
};

using ConfigPtr = std::shared_ptr<const Config>;

base::Result<ConfigPtr> load_config_file(const std::string& path);
// `name` is used in messages ("name:3: Unknown setting: x"); includes resolve relative to it.
base::Result<ConfigPtr> load_config_string(std::string_view text, const std::string& name);

// The config `dovetail serve` uses when no file is given, in Dovecot syntax: LMTP on
// 127.0.0.1:2424 and <checkout>/var/run/lmtp, any recipient accepted (static userdb,
// allow_all_users), Maildirs under <checkout>/var/mail/%d/%n/Maildir, log to stderr.
// `running_as_root` adds mail_uid/mail_gid = dovetail (uid 0 is never used for mail).
enum class RunningAsRoot { kNo, kYes };
std::string embedded_default_config(RunningAsRoot running_as_root);
inline std::string embedded_default_config(bool running_as_root) {
  return embedded_default_config(running_as_root ? RunningAsRoot::kYes : RunningAsRoot::kNo);
}
// "/etc/dovetail/dovetail.conf" when it exists, else "" (= use the embedded default).
std::string default_config_path();
// The name messages use for the embedded default.
inline constexpr std::string_view kEmbeddedConfigName = "<embedded default>";

}  // namespace dovetail::config
