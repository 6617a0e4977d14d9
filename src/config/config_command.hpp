// config_command.hpp — `dovetail config [-c FILE] [-n | -a] [-P] [-h KEY]`, the doveconf-alike.
//
// Purpose: registers the subcommand on the binary's CLI11 app; the callback stores the action
// that main() runs. Default output is -n (like doveconf -n) over the default config path
// (/etc/dovetail/dovetail.conf, else the embedded default).
// Exit codes: 0 ok, 64 (EX_USAGE) usage errors and unknown -h key, 78 (EX_CONFIG) config
// errors with "file:line: message" on stderr.
// Depends on: config, CLI11. Threading: main thread only.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace dovetail::config {

void register_config_command(CLI::App& app, std::function<int()>& action);

}  // namespace dovetail::config
