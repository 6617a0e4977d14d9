#include "lmtpd/serve_command.hpp"

#include <memory>
#include <string>

#include "config/config.hpp"
#include "lmtpd/daemon.hpp"

namespace dovetail::lmtpd {

void register_serve_command(CLI::App& app, std::function<int()>& action) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("serve", "run the LMTP server (Dovecot-compatible configuration)");
  cmd->add_option("-c,--config", *path,
                  "configuration file (default: /etc/dovetail/dovetail.conf, else built-in)");
  cmd->callback([path, &action] {
    action = [path] {
      DaemonOptions o;
      o.config_path = *path;
      if (o.config_path.empty()) o.config_path = config::default_config_path();
      return run_daemon(o);
    };
  });
}

}  // namespace dovetail::lmtpd
