#include "lmtpd/serve_command.hpp"

#include <memory>
#include <string>

#include "config/config.hpp"
#include "lmtpd/daemon.hpp"

namespace dovetail::lmtpd {

void register_serve_command(CLI::App& app, std::function<int()>& action) {
  auto opts = std::make_shared<DaemonOptions>();
  auto* cmd = app.add_subcommand("serve", "run the LMTP server (Dovecot-compatible configuration)");
  cmd->add_option("-c,--config", opts->config_path,
                  "configuration file (default: /etc/dovetail/dovetail.conf, else built-in)");
  cmd->add_option("--io-threads", opts->io_threads, "event threads (default: one per core)");
  cmd->add_option("--blocking-threads", opts->blocking_threads,
                  "threads for disk and userdb work, i.e. fsyncs in flight (default: 64)")
      ->check(CLI::Range(1u, 4096u));
  cmd->add_option_function<std::string>(
         "--cpu-policy",
         [opts](const std::string& name) { opts->cpu_policy = parse_cpu_policy(name).value_or(CpuPolicy::kBatch); },
         "Linux scheduling policy of every thread: batch (default: a woken thread does not preempt "
         "a running one) or normal (SCHED_OTHER)")
      ->check(CLI::IsMember({"batch", "normal"}));
  cmd->callback([opts, &action] {
    action = [opts] {
      DaemonOptions o = *opts;
      if (o.config_path.empty()) o.config_path = config::default_config_path();
      return run_daemon(o);
    };
  });
}

}  // namespace dovetail::lmtpd
