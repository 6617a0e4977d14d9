// daemon.hpp — `dovetail serve`: wire config, logging, listeners, limits, signals and the
// delivery engine into a running LMTP server.
//
// Purpose: the application's main loop. Start-up errors are printed on stderr with an exit
// code: 78 (EX_CONFIG) for configuration errors (with file:line), 71 (EX_OSERR) when a
// listener cannot be bound ("dovetail: cannot listen on 127.0.0.1:24: Address already in use").
// On success one line per listener on stderr ("dovetail: listening on 127.0.0.1:2424",
// "dovetail: listening on unix:/run/dovecot/lmtp"), then a ready-to-paste test command.
// SIGTERM/SIGINT: stop accepting, finish open transactions, exit 0. SIGHUP: reload the config
// for new connections; a broken config keeps the old one and the log says why.
// Depends on: everything below lmtpd. Threading: run_daemon() blocks the calling thread.
#pragma once

#include <string>

#include "lmtpd/cpu_policy.hpp"

namespace dovetail::lmtpd {

struct DaemonOptions {
  std::string config_path;        // "" = embedded default
  unsigned io_threads = 0;         // event threads; 0 = one per core
  unsigned blocking_threads = 64;  // disk/userdb work in flight at once (fsync parallelism)
  CpuPolicy cpu_policy = CpuPolicy::kBatch;
};

int run_daemon(const DaemonOptions& options);

}  // namespace dovetail::lmtpd
