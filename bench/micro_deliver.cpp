// micro_deliver — the per-recipient text work of a delivery: the log prefix, the delivery
// log line and the userdb lookup key (each runs once per recipient, ten times for r10).
#include <benchmark/benchmark.h>

#include <string>

#include "deliver/delivery_log.hpp"
#include "deliver/message_info.hpp"
#include "deliver/recipient_key.hpp"
#include "mail/address.hpp"

namespace {

using namespace dovetail::deliver;

// Dovecot's defaults, as the benchmark's config leaves them.
constexpr std::string_view kPrefix = "%s(%u)<%{pid}><%{session}>: ";
constexpr std::string_view kFormat = "msgid=%m: %$";

void BM_LogPrefix(benchmark::State& state) {
  const LogPrefixVars vars{"lmtp", "user1@example.test", "4242", "EPY9OQSxBGt8MwAAg+zDdQ"};
  for (auto _ : state) {
    std::string line = expand_log_prefix(kPrefix, vars);
    benchmark::DoNotOptimize(line);
  }
}
BENCHMARK(BM_LogPrefix);

void BM_DeliveryLog(benchmark::State& state) {
  const MessageInfo info{"<20261204.1.bench@example.test>", "bench subject", "bench@example.test"};
  DeliveryLogVars vars;
  vars.message = &info;
  vars.status = "saved mail to INBOX";
  vars.from_envelope = "bench@example.test";
  vars.to_envelope = "user1@example.test";
  vars.size = 4321;
  vars.vsize = 4400;
  for (auto _ : state) {
    std::string line = expand_delivery_log(kFormat, vars);
    benchmark::DoNotOptimize(line);
  }
}
BENCHMARK(BM_DeliveryLog);

void BM_RecipientKey(benchmark::State& state) {
  const dovetail::mail::Address address{"user1", "example.test"};
  for (auto _ : state) {
    RecipientKey key = recipient_key(address, "", "%Lu");
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_RecipientKey);

}  // namespace
