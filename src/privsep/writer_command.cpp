#include "privsep/writer_command.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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
  unsigned channels = 1;  // fds channel_fd .. channel_fd + channels - 1
  std::string config;
  std::string config_digest;  // what the daemon read; "" = no expectation
};

struct Loaded {
  std::shared_ptr<const deliver::Engine> engine;
  storage::FsyncMode fsync;
};

// The config the writer acts on: its own -c file (or the embedded default), never settings
// sent by the network process.
base::Result<Loaded> load_config(const std::string& path, std::string* digest) {
  auto cfg = path.empty() ? config::load_config_string(config::embedded_default_config(::geteuid() == 0),
                                                       std::string(config::kEmbeddedConfigName))
                          : config::load_config_file(path);
  if (!cfg) return base::fail(cfg.error());
  *digest = (*cfg)->digest();
  auto settings = (*cfg)->resolve({.protocol = "lmtp"});
  auto engine = deliver::make_engine(settings, "lmtp");
  if (!engine) return base::fail(engine.error());
  auto fsync = storage::parse_fsync_mode(settings->mail_fsync);
  if (!fsync) return base::fail(fsync.error());
  return Loaded{std::move(*engine), *fsync};
}

// The daemon and the writer read the file at different moments: an admin still editing it
// (or an editor that truncates before writing) could give the writer other bytes than the
// daemon validated — e.g. an empty file, in which no user exists. So the writer takes the
// file only when it hashes to what the daemon read, re-reading for a while in case the edit
// was still being written.
constexpr int kDigestAttempts = 20;
constexpr auto kDigestRetry = std::chrono::milliseconds(50);

base::Result<Loaded> load_matching(const std::string& path, const std::string& expected) {
  std::string seen;
  for (int attempt = 1;; ++attempt) {
    std::string got;  // stays empty when the file does not parse
    auto loaded = load_config(path, &got);
    if (expected.empty() || got == expected) return loaded;
    seen = got.empty() ? "a file that does not load (" + loaded.error().message + ")" : "sha256 " + got;
    if (attempt == kDigestAttempts) break;
    std::this_thread::sleep_for(kDigestRetry);
  }
  return base::fail(base::Error::config((path.empty() ? std::string("built-in config") : path) +
                                        " changed after the daemon read it (daemon read sha256 " + expected +
                                        ", the writer reads " + seen + "); send SIGHUP again when the file is complete"));
}

// The daemon reloaded (SIGHUP): so do we, from the same file, or keep what we have.
class ReloadingBackend : public MaildirBackend {
 public:
  ReloadingBackend(Loaded first, std::string path)
      : MaildirBackend(std::move(first.engine), first.fsync), path_(std::move(path)) {}
  void reload(const std::string& config_digest) override {
    ThreadFsIdentity::become_root();  // the config file is read as root
    auto next = load_matching(path_, config_digest);
    if (!next) {
      base::log::error("dovetail-writer: ", "config reload failed, keeping the previous configuration: " +
                                                next.error().message);
      return;
    }
    replace(std::move(next->engine), next->fsync);
    base::log::info("dovetail-writer: ", "configuration reloaded from " +
                                             (path_.empty() ? std::string("built-in default") : path_));
  }

 private:
  std::string path_;
};

int run_writer(const WriterOptions& o) {
  // Die with the network process; SIGTERM/SIGHUP meant for the daemon are not ours. A service
  // manager that signals the whole group (systemd's KillMode=control-group) must not kill the
  // writer under deliveries the network process is still finishing: the writer ends when the
  // network process closes the channel (or dies: PDEATHSIG). A reload reaches the writer as a
  // kReload frame from the daemon after the daemon's own reload succeeded (the unprivileged
  // daemon could not signal a root process anyway).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  if (o.channel_fd < 0 || o.channels == 0 || o.channels > 4096) return EX_USAGE;
  if (auto st = limit_writer_capabilities(); !st) {
    std::fprintf(stderr, "dovetail writer: %s\n", st.error().message.c_str());
    return EX_OSERR;
  }
  auto first = load_matching(o.config, o.config_digest);
  if (!first) {
    std::fprintf(stderr, "dovetail writer: %s\n", first.error().message.c_str());
    return EX_CONFIG;
  }
  ReloadingBackend backend(std::move(*first), o.config);
  std::vector<base::UniqueFd> channels;
  for (unsigned i = 0; i < o.channels; ++i) {
    int fd = o.channel_fd + static_cast<int>(i);
    int type = 0;
    socklen_t len = sizeof(type);
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_SEQPACKET) {
      std::fprintf(stderr, "dovetail writer: fd %d is not a SEQPACKET channel\n", fd);
      return EX_USAGE;
    }
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    channels.emplace_back(fd);
  }
  return run_writer_service(std::move(channels), backend);
}

}  // namespace

void register_writer_command(CLI::App& app, std::function<int()>& action) {
  auto o = std::make_shared<WriterOptions>();
  CLI::App* sub = app.add_subcommand("writer", "");  // empty description: hidden from --help
  sub->group("");
  sub->add_option("--channel-fd", o->channel_fd)->required();
  sub->add_option("-c", o->config);
  sub->add_option("--channels", o->channels);
  sub->add_option("--config-digest", o->config_digest);
  sub->callback([o, &action] { action = [o] { return run_writer(*o); }; });
}

}  // namespace dovetail::privsep
