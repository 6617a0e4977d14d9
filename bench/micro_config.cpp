// micro_config — loading a Dovecot-syntax config like the one bench/run generates.
#include <benchmark/benchmark.h>

#include <string>

#include "config/config_parser.hpp"

namespace {

const char* kConfig = R"(instance_name = bench
base_dir = /tmp/bench/run
state_dir = /tmp/bench/state
protocols = lmtp
listen = 127.0.0.1
ssl = no
log_path = /tmp/bench/log/server.log
mail_temp_dir = /tmp/bench/tmp
first_valid_uid = 100
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u /tmp/bench/users.passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u /tmp/bench/users.passwd
}
mail_location = maildir:~/Maildir
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = 24
  }
}
protocol lmtp {
  mail_plugins = $mail_plugins
}
)";

void BM_ParseConfig(benchmark::State& state) {
  for (auto _ : state) {
    auto tree = dovetail::config::parse_config_string(kConfig, "/tmp/bench/dovecot.conf");
    if (!tree) {
      state.SkipWithError(tree.error().message.c_str());
      return;
    }
    benchmark::DoNotOptimize(tree);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseConfig);

}  // namespace
