#include "config/config_command.hpp"

#include <sysexits.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "config/config_dump.hpp"

namespace dovetail::config {
namespace {

struct Options {
  std::string file;
  bool changed = false;
  bool all = false;
  bool show_secrets = false;
  std::string key;
};

int run(const Options& o) {
  if (o.changed && o.all) {
    std::fprintf(stderr, "dovetail config: -n and -a exclude each other\n");
    return EX_USAGE;
  }
  std::string path = o.file.empty() ? default_config_path() : o.file;
  auto cfg = path.empty() ? load_config_string(embedded_default_config(::geteuid() == 0), std::string(kEmbeddedConfigName))
                          : load_config_file(path);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return EX_CONFIG;
  }
  for (const auto& w : (*cfg)->warnings()) std::fprintf(stderr, "Warning: %s\n", w.c_str());
  if (!o.key.empty()) {
    auto v = dump_key(**cfg, o.key);
    if (!v) {
      std::fprintf(stderr, "dovetail config: %s\n", v.error().message.c_str());
      return EX_USAGE;
    }
    std::printf("%s\n", v->c_str());
    return 0;
  }
  std::string out = dump_config(**cfg, o.all ? DumpScope::kAll : DumpScope::kChanged,
                                o.show_secrets ? ShowSecrets::kYes : ShowSecrets::kNo);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

void register_config_command(CLI::App& app, std::function<int()>& action) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("config", "print the configuration like doveconf (default: -n)");
  // doveconf uses -h for "one key"; help moves to --help only.
  cmd->set_help_flag("--help", "print this help");
  cmd->add_option("-c", opts->file, "config file (default /etc/dovetail/dovetail.conf, else the embedded default)");
  cmd->add_flag("-n", opts->changed, "only settings that differ from Dovecot's defaults (default)");
  cmd->add_flag("-a", opts->all, "all settings, defaults included");
  cmd->add_flag("-P", opts->show_secrets, "show passwords and keys instead of hiding them");
  cmd->add_option("-h", opts->key, "print only this key's value (e.g. mail_location, service/lmtp/process_min_avail)");
  cmd->callback([opts, &action] {
    action = [opts] { return run(*opts); };
  });
}

}  // namespace dovetail::config
