// serve_command.hpp — registers `dovetail serve [-c FILE]` on the CLI (apps/dovetail.cpp).
//
// Purpose: -c names the config; without it /etc/dovetail/dovetail.conf when it exists, else
// the embedded default. Depends on: CLI11, lmtpd/daemon. Threading: main thread only.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace dovetail::lmtpd {

void register_serve_command(CLI::App& app, std::function<int()>& action);

}  // namespace dovetail::lmtpd
