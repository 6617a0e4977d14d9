#include "lmtpd/settings_source.hpp"

#include <unistd.h>

namespace dovetail::lmtpd {
namespace {
base::Result<config::ConfigPtr> load_any(const std::string& path) {
  if (path.empty())
    return config::load_config_string(config::embedded_default_config(::geteuid() == 0),
                                      std::string(config::kEmbeddedConfigName));
  return config::load_config_file(path);
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

config::SettingsPtr SettingsSource::lmtp() const { return current()->resolve({"lmtp", "", ""}); }

std::string SettingsSource::listen() const {
  const config::Assignment* a = current()->tree().root.find("listen");
  return a ? a->value : std::string("*, ::");
}

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
