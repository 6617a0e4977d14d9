#include "lmtpd/daemon.hpp"

#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

#include "base/log.hpp"
#include "deliver/template_check.hpp"
#include "lmtpd/engine_backend.hpp"
#include "lmtpd/listeners.hpp"
#include "lmtpd/lmtp_connection.hpp"
#include "lmtpd/log_setup.hpp"
#include "lmtpd/reply_map.hpp"
#include "lmtpd/settings_source.hpp"
#include "net/server.hpp"
#include "privsep/credentials.hpp"
#include "privsep/process_setup.hpp"
#include "privsep/remote_store.hpp"
#include "storage/maildir_writer.hpp"

namespace dovetail::lmtpd {
namespace {

const char* kPrefix = "dovetail: ";

// Read once, as Dovecot does at start-up: the greeting needs it for every connection, and
// gethostname() is a uname(2) each time.
const std::string& system_hostname() {
  static const std::string name = [] {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return std::string("localhost");
    return std::string(buf);
  }();
  return name;
}

std::string hostname_of(const config::Settings& s) {
  return s.hostname.empty() ? system_hostname() : s.hostname;
}

// process_limit x client_limit: Dovecot runs process_limit processes of client_limit clients
// each; Dovetail has one process, so the product is the connection bound (docs/config.md).
size_t connection_limit(const config::Settings& s) {
  const config::Service* svc = s.find_service("lmtp");
  size_t processes = svc && svc->process_limit ? svc->process_limit : s.default_process_limit;
  size_t clients = svc && svc->client_limit ? svc->client_limit : s.default_client_limit;
  return processes * clients;
}

// Each connection needs a descriptor; the default soft limit (1024) would cap us far below
// client_limit. Raise the soft limit to the hard one.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// Dovecot settings that parse but do nothing here (IMAP, POP3, other services) are named in
// one warning line, so an admin migrating a full dovecot.conf sees what Dovetail skips.
void announce_config_notes(const SettingsSource& source) {
  auto ignored = source.ignored_keys();
  if (!ignored.empty()) {
    std::string line = "settings known to Dovecot but not used by Dovetail (ignored): ";
    for (size_t i = 0; i < ignored.size(); ++i) line += (i ? ", " : "") + ignored[i];
    std::fprintf(stderr, "dovetail: Warning: %s\n", line.c_str());
    base::log::warning("dovetail: ", line);
  }
  auto warnings = source.warnings();
  if (auto lmtp = source.lmtp()) {
    auto paths = deliver::check_path_templates(*lmtp, "lmtp");
    warnings.insert(warnings.end(), paths.begin(), paths.end());
  }
  for (const auto& w : warnings) {
    std::fprintf(stderr, "dovetail: Warning: %s\n", w.c_str());
    base::log::warning("dovetail: ", w);
  }
}

void print_err(const std::string& line) { std::fprintf(stderr, "%s%s\n", kPrefix, line.c_str()); }

}  // namespace

int run_daemon(const DaemonOptions& options) {
  // no_new_privs is per thread and inherited only by threads created later: set it here,
  // before the event threads and the blocking pool exist, so every thread that parses the
  // network has it (decision 0003). Harmless for the writer: it is exec'd as root with every
  // capability it already holds, so it gains nothing no_new_privs could refuse.
  if (auto st = privsep::forbid_new_privileges(); !st) {
    print_err("cannot set no_new_privs: " + st.error().message);
    return EX_OSERR;
  }
  // Same rule as no_new_privs: before any thread or the writer exists, so all inherit it.
  // Not fatal: a sandbox that forbids it costs speed, not mail.
  if (auto st = apply_cpu_policy(options.cpu_policy); !st)
    print_err("Warning: cannot set the CPU policy, keeping the kernel default: " + st.error().message);
  auto source_r = SettingsSource::load(options.config_path);
  if (!source_r) {
    print_err(source_r.error().message);
    return EX_CONFIG;
  }
  std::shared_ptr<SettingsSource> source = std::move(*source_r);
  config::SettingsPtr lmtp = source->lmtp();
  base::log::configure(log_config_for(*lmtp, *source->global()));
  announce_config_notes(*source);

  auto specs = listeners_from_settings(*lmtp, source->listen());
  if (!specs) {
    print_err((options.config_path.empty() ? std::string("built-in config") : options.config_path) +
              ": " + specs.error().message);
    return EX_CONFIG;
  }
  raise_fd_limit();

  // A log sink or client that went away must be an error value, not a fatal signal.
  std::signal(SIGPIPE, SIG_IGN);
  net::Server server(net::ServerOptions{options.io_threads, options.blocking_threads});
  auto bound = server.listen(*specs);
  if (!bound) {
    print_err("cannot listen on " + bound.error().message);
    return EX_OSERR;
  }

  std::string hostname = hostname_of(*lmtp);
  server.set_connection_limit(connection_limit(*lmtp), too_many_connections_line(hostname));

  // Listeners are bound (ports < 1024, socket ownership): now give up root for good, or hand
  // the right to write as other uids to the privileged writer (decision 0003).
  auto priv = privsep::enter_privilege_mode(*lmtp, options.config_path, source->digest(),
                                               options.blocking_threads);
  if (!priv) {
    print_err("cannot set up privileges: " + priv.error().message);
    return priv.error().kind == base::ErrorKind::kConfig ? EX_CONFIG : EX_OSERR;
  }
  print_err(std::string("privileges: ") + privsep::describe(priv->mode) + ", network process runs as " +
            priv->network_user);

  auto backends = std::make_shared<EngineBackends>();
  auto writer_died = std::make_shared<std::atomic<bool>>(false);
  if (priv->writer) {
    auto fsync = storage::parse_fsync_mode(lmtp->mail_fsync);
    if (!fsync) {
      print_err(fsync.error().message);
      return EX_CONFIG;
    }
    std::shared_ptr<privsep::WriterClient> writer = priv->writer;
    // A writer that died or misbehaved is not renegotiated with: stop, let the service
    // manager restart both processes. In-flight deliveries get 451 and are retried.
    writer->set_on_death([writer_died] {
      writer_died->store(true);
      ::kill(::getpid(), SIGTERM);
    });
    privsep::FsyncMode wire_fsync = privsep::to_wire(*fsync);
    backends->set_store([writer, wire_fsync](const storage::Body& body, std::string_view headers,
                                             std::span<const storage::SaveTarget> targets,
                                             std::span<const std::string> keys) {
      return privsep::store_via_writer(*writer, body, headers, targets, keys, wire_fsync);
    }, [writer, wire_fsync](const storage::Body& body, std::string_view headers,
                            std::span<const storage::SaveTarget> targets, std::span<const std::string> keys) {
      return privsep::begin_store_via_writer(writer, body, headers, targets, keys, wire_fsync);
    });
  }
  if (auto engine = backends->engine_for(lmtp); !engine) {
    print_err(engine.error().message);
    return EX_CONFIG;
  }
  net::BlockingPool* pool = &server.blocking_pool();
  std::string spool_dir = priv->spool_dir;
  server.set_protocol_factory([source, backends, pool, spool_dir](net::ConnectionContext& ctx) {
    const auto& peer = ctx.peer();
    ConnectionDeps deps;
    deps.settings = source->for_connection(peer.local_ip, peer.remote_ip);
    deps.hostname = hostname_of(*deps.settings);
    deps.pool = pool;
    deps.backend = backends->make(deps.settings);
    deps.spool_dir = spool_dir;
    return make_lmtp_connection(ctx, std::move(deps));
  });

  std::shared_ptr<privsep::WriterClient> writer = priv->writer;
  server.handle_signals([source, backends, writer, &server] {
    // A new config counts only when its userdb can be built too.
    auto validate = [&](const SettingsSource& candidate) -> base::Status {
      auto engine = EngineBackends().engine_for(candidate.lmtp());
      if (!engine) return base::fail(engine.error());
      return {};
    };
    if (auto st = source->reload(validate); !st) {
      base::log::error(kPrefix, "config reload failed, keeping the previous configuration: " +
                                    st.error().message);
      return;
    }
    backends->forget_all();
    auto now = source->lmtp();
    base::log::configure(log_config_for(*now, *source->global()));
    server.set_connection_limit(connection_limit(*now), too_many_connections_line(hostname_of(*now)));
    base::log::info(kPrefix, "configuration reloaded from " +
                                 (source->path().empty() ? std::string("built-in default") : source->path()));
    // The privileged writer writes with its own copy of the config: tell it to re-read the
    // same file, or mail_location & co. would differ between RCPT checks here and the write.
    if (writer) {
      if (auto st = writer->request_reload(source->digest()); !st)
        base::log::error(kPrefix, "cannot ask the privileged writer to reload: " + st.error().message);
    }
  });

  std::string tcp_hint;
  for (const auto& b : *bound) {
    print_err("listening on " + b.describe());
    if (tcp_hint.empty() && b.kind == net::ListenSpec::Kind::kInet) {
      std::string host = b.address == "0.0.0.0" ? "127.0.0.1" : b.address == "::" ? "::1" : b.address;
      tcp_hint = "swaks --protocol LMTP --server " + host + " --port " + std::to_string(b.port) +
                 " --to user@example.com";
    }
  }
  if (tcp_hint.empty()) {
    for (const auto& b : *bound)
      if (b.kind == net::ListenSpec::Kind::kUnix) {
        tcp_hint = "swaks --protocol LMTP --socket " + b.path + " --to user@example.com";
        break;
      }
  }
  if (!tcp_hint.empty()) print_err("try: " + tcp_hint);
  std::fflush(stderr);
  base::log::info(kPrefix, "LMTP server started (" + std::to_string(bound->size()) + " listeners)");

  int rc = server.run();
  if (writer_died->load()) {
    // Not a clean stop: a non-zero status lets the service manager restart both processes.
    base::log::error(kPrefix, "LMTP server stopped: the privileged writer is gone");
    return EX_UNAVAILABLE;
  }
  base::log::info(kPrefix, "LMTP server stopped");
  return rc;
}

}  // namespace dovetail::lmtpd
