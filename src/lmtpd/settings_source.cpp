#include "lmtpd/settings_source.hpp"

#include <unistd.h>

#include "lmtpd/listeners.hpp"

namespace dovetail::lmtpd {
namespace {
// A config that parses but cannot give serve its listeners (bad port or address, protocols
// without lmtp) is refused here, where errors still carry the assignment's file:line, both at
// start-up and on SIGHUP.
base::Result<config::ConfigPtr> load_any(const std::string& path) {
  auto c = path.empty() ? config::load_config_string(config::embedded_default_config(::geteuid() == 0),
                                                     std::string(config::kEmbeddedConfigName))
                        : config::load_config_file(path);
  if (!c) return c;
  auto lmtp = (*c)->resolve({"lmtp", "", ""});
  if (auto specs = listeners_from_settings(*lmtp, (*c)->global()->listen); !specs)
    return base::fail(specs.error());
  return c;
}
}  // namespace

SettingsSource::SettingsSource(std::string path, config::ConfigPtr config)
    : path_(std::move(path)), config_(std::move(config)) {}

base::Result<std::unique_ptr<SettingsSource>> SettingsSource::load(const std::string& path) {
  auto c = load_any(path);
  if (!c) return base::fail(c.error());
  return std::make_unique<SettingsSource>(path, std::move(*c));
}

config::ConfigPtr SettingsSource::current() const {
  std::lock_guard lock(mutex_);
  return config_;
}

std::vector<std::string> SettingsSource::ignored_keys() const { return current()->ignored_keys(); }
std::vector<std::string> SettingsSource::warnings() const { return current()->warnings(); }
std::string SettingsSource::digest() const { return current()->digest(); }

config::SettingsPtr SettingsSource::lmtp() const { return current()->resolve({"lmtp", "", ""}); }

std::string SettingsSource::listen() const { return current()->global()->listen; }

config::SettingsPtr SettingsSource::global() const { return current()->global(); }

config::SettingsPtr SettingsSource::for_connection(const std::string& local_ip,
                                                   const std::string& remote_ip) {
  return current()->resolve({"lmtp", local_ip, remote_ip});
}

base::Status SettingsSource::reload(
    const std::function<base::Status(const SettingsSource& candidate)>& validate) {
  auto c = load_any(path_);
  if (!c) return base::fail(c.error());
  if (validate) {
    SettingsSource candidate(path_, *c);
    if (auto st = validate(candidate); !st) return st;
  }
  std::lock_guard lock(mutex_);
  config_ = std::move(*c);
  return {};
}

}  // namespace dovetail::lmtpd
