#include "privsep/writer_command.hpp"

#include <sys/prctl.h>
#include <sysexits.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "base/log.hpp"
#include "config/config.hpp"
#include "deliver/engine_factory.hpp"
#include "privsep/credentials.hpp"
#include "privsep/maildir_backend.hpp"
#include "privsep/writer_service.hpp"

namespace dovetail::privsep {
namespace {

struct WriterOptions {
  int channel_fd = -1;
  std::string config;
  unsigned threads = 64;
};

int run_writer(const WriterOptions& o) {
  // Die with the network process; SIGTERM/SIGHUP meant for the daemon are not ours. A service
  // manager that signals the whole group (systemd's KillMode=control-group) must not kill the
  // writer under deliveries the network process is still finishing: the writer ends when the
  // network process closes the channel (or dies: PDEATHSIG).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  if (o.channel_fd < 0) return EX_USAGE;
  if (auto st = limit_writer_capabilities(); !st) {
    std::fprintf(stderr, "dovetail writer: %s\n", st.error().message.c_str());
    return EX_OSERR;
  }
  auto cfg = o.config.empty()
                 ? config::load_config_string(config::embedded_default_config(::geteuid() == 0),
                                              std::string(config::kEmbeddedConfigName))
                 : config::load_config_file(o.config);
  if (!cfg) {
    std::fprintf(stderr, "dovetail writer: %s\n", cfg.error().message.c_str());
    return EX_CONFIG;
  }
  auto settings = (*cfg)->resolve({.protocol = "lmtp"});
  auto engine = deliver::make_engine(settings, "lmtp");
  if (!engine) {
    std::fprintf(stderr, "dovetail writer: %s\n", engine.error().message.c_str());
    return EX_CONFIG;
  }
  auto fsync = storage::parse_fsync_mode(settings->mail_fsync);
  if (!fsync) return EX_CONFIG;
  MaildirBackend backend(std::move(*engine), *fsync);
  return run_writer_service(base::UniqueFd(o.channel_fd), backend, o.threads);
}

}  // namespace

void register_writer_command(CLI::App& app, std::function<int()>& action) {
  auto o = std::make_shared<WriterOptions>();
  CLI::App* sub = app.add_subcommand("writer", "");  // empty description: hidden from --help
  sub->group("");
  sub->add_option("--channel-fd", o->channel_fd)->required();
  sub->add_option("-c", o->config);
  sub->add_option("--threads", o->threads);
  sub->callback([o, &action] { action = [o] { return run_writer(*o); }; });
}

}  // namespace dovetail::privsep
