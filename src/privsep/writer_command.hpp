// writer_command.hpp — `dovetail writer --channel-fd N [-c FILE]`: the privileged writer
// process (started by `dovetail serve`, not by people). Loads the same config, builds the
// delivery engine's user resolution and serves DeliverRequests until the channel closes.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace dovetail::privsep {

void register_writer_command(CLI::App& app, std::function<int()>& action);

}  // namespace dovetail::privsep
