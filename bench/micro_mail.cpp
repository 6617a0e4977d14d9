// micro_mail — the trace headers every delivery prepends (Return-Path, Delivered-To, Received).
#include <benchmark/benchmark.h>

#include <ctime>
#include <string>

#include "mail/envelope.hpp"
#include "mail/trace_headers.hpp"

namespace {

using namespace dovetail::mail;

void BM_TraceHeaders(benchmark::State& state) {
  Envelope env;
  env.mail_from = Address{"bench", "example.test"};
  env.session_id = "EPY9OQSxBGt8MwAAg+zDdQ";
  env.transaction_id = env.session_id;
  env.client.lhlo = "client.example.test";
  env.client.remote_ip = "127.0.0.1";
  env.client.remote_port = 40000;
  Recipient rcpt;
  rcpt.given = "user1@example.test";
  rcpt.address = Address{"user1", "example.test"};
  rcpt.id = env.session_id;
  env.recipients.push_back(rcpt);
  TraceRequest req;
  req.envelope = &env;
  req.single_recipient = &env.recipients[0];
  req.hostname = "mx.example.test";
  req.now = std::time(nullptr);
  for (auto _ : state) {
    std::string headers = trace_headers(req);
    benchmark::DoNotOptimize(headers);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TraceHeaders);

void BM_Rfc5322Date(benchmark::State& state) {
  const std::time_t now = std::time(nullptr);
  for (auto _ : state) {
    std::string d = rfc5322_date(now);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_Rfc5322Date);

}  // namespace
