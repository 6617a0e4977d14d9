// micro_smtp — hot paths of the sans-I/O protocol room: command-line splitting and the DATA
// decoder (dot-unstuffing, CRLF -> LF) writing into a memory Spool, as one delivery does.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "mail/spool.hpp"
#include "smtp/body_writer.hpp"
#include "smtp/command_line.hpp"
#include "smtp/data_reader.hpp"

namespace {

using dovetail::mail::Spool;
using dovetail::smtp::BodyWriter;
using dovetail::smtp::DataReader;

void BM_ParseCommandLine(benchmark::State& state) {
  // The commands of one smtp-source -L transaction, as the session sees them (no CRLF).
  const std::string_view lines[] = {"LHLO client.example.test", "MAIL FROM:<bench@example.test>",
                                    "RCPT TO:<user1@example.test>", "DATA", "RSET", "QUIT"};
  for (auto _ : state) {
    for (std::string_view line : lines) {
      auto parsed = dovetail::smtp::parse_command_line(line);
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetItemsProcessed(state.iterations() * std::size(lines));
}
BENCHMARK(BM_ParseCommandLine);

// A body of `size` octets in 78-character lines, every tenth one dot-stuffed, plus the
// terminating <CRLF>.<CRLF> — what the wire carries after DATA.
std::string wire_body(size_t size) {
  std::string out;
  for (size_t line = 0; out.size() < size; ++line) {
    if (line % 10 == 0) out += '.';
    out.append(78, static_cast<char>('A' + line % 26));
    out += "\r\n";
  }
  out += ".\r\n";
  return out;
}

void BM_DataDecode(benchmark::State& state) {
  const std::string wire = wire_body(static_cast<size_t>(state.range(0)));
  const size_t chunk = 16384;  // one socket read
  for (auto _ : state) {
    Spool spool(256 * 1024, "/tmp");
    BodyWriter writer;
    writer.start(&spool, 0);
    DataReader reader;
    reader.start();
    std::string_view in = wire;
    while (!reader.done() && !in.empty()) {
      const size_t used = reader.consume(in.substr(0, chunk), writer);
      in.remove_prefix(used);
    }
    writer.finish();
    benchmark::DoNotOptimize(spool.size());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(wire.size()));
}
BENCHMARK(BM_DataDecode)->Arg(4096)->Arg(64 * 1024)->Arg(1 << 20);

}  // namespace
