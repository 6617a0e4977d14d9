// session_driver.hpp — runs a client script through a ServerSession fed whole, one byte at a
// time, or split at a given offset, with a sync or async FakeHandler; returns all output.
#pragma once

#include <string>
#include <vector>

#include "smtp/server_session.hpp"
#include "fake_handler.hpp"

namespace dovetail::smtp::test {

inline SessionConfig test_config() {
  SessionConfig c;
  c.hostname = "mx.test.example";
  c.greeting = "Dovecot (Debian) ready.";
  c.spool_dir = "/tmp";
  return c;
}

// A transcript in COMPAT.md style: client lines (CRLF appended) or raw client bytes, and the
// server lines expected in order.
struct Script {
  std::string input;
  std::string expected;
  Script& c(const std::string& line) { input += line + "\r\n"; return *this; }
  Script& raw(const std::string& bytes) { input += bytes; return *this; }
  Script& s(const std::string& line) { expected += line + "\r\n"; return *this; }
};

struct RunResult {
  std::string output;
  bool closed = false;
  FakeHandler handler;
  explicit RunResult(FakeHandler::Mode m) : handler(m) {}
};

enum class Feed { kWhole, kBytewise, kSplit };

// `split` is used with Feed::kSplit: input[0, split) then input[split, end).
inline void run_script(RunResult& r, const std::string& input, Feed feed, size_t split = 0,
                       SessionConfig cfg = test_config()) {
  ServerSession s(cfg, mail::ClientInfo{}, "SID", r.handler);
  s.start();
  auto pump = [&] {
    while (r.handler.run_pending() > 0) {
    }
    r.output += s.take_output();
  };
  auto give = [&](std::string_view part) {
    s.feed(part);
    pump();
  };
  pump();
  if (feed == Feed::kWhole) {
    give(input);
  } else if (feed == Feed::kBytewise) {
    for (char ch : input) give(std::string_view(&ch, 1));
  } else {
    give(std::string_view(input).substr(0, split));
    give(std::string_view(input).substr(split));
  }
  r.closed = s.should_close();
}

}  // namespace dovetail::smtp::test
