// dovetail — one binary: `serve` (LMTP daemon), `deliver` (LDA), `config` (doveconf-alike).
// main() only parses the command line; every subcommand lives in its room.
#include <sysexits.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>

#if DOVETAIL_HAVE_CONFIG
#include "config/config_command.hpp"
#endif
#if DOVETAIL_HAVE_LMTPD
#include "lmtpd/serve_command.hpp"
#endif
#if DOVETAIL_HAVE_LDA
#include "lda/deliver_command.hpp"
#endif
#if DOVETAIL_HAVE_PRIVSEP
#include "privsep/writer_command.hpp"
#endif

int main(int argc, char** argv) {
  CLI::App app{"dovetail - LMTP delivery server, a drop-in for Dovecot's LMTP"};
  app.require_subcommand(1);
  std::function<int()> action;
#if DOVETAIL_HAVE_LMTPD
  dovetail::lmtpd::register_serve_command(app, action);
#endif
#if DOVETAIL_HAVE_LDA
  dovetail::lda::register_deliver_command(app, action);
#endif
#if DOVETAIL_HAVE_CONFIG
  dovetail::config::register_config_command(app, action);
#endif
#if DOVETAIL_HAVE_PRIVSEP
  dovetail::privsep::register_writer_command(app, action);
#endif
  app.add_subcommand("version", "print the version")->callback([&] {
    action = [] {
      std::printf("dovetail %s\n", DOVETAIL_VERSION);
      return 0;
    };
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return EX_USAGE;
  }
  return action ? action() : EX_USAGE;
}
