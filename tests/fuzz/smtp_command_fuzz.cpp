// smtp_command_fuzz — the whole ServerSession fed arbitrary bytes (split where the input says)
// with a synchronous handler that accepts everyone. Checks: no crash/UB, every reply line is
// well formed, nothing is emitted after the session closed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "smtp/server_session.hpp"

namespace {

using namespace dovetail;

class AcceptAll : public smtp::Handler {
 public:
  smtp::Reply on_mail(const mail::Envelope&) override { return {250, "2.1.0", "OK"}; }
  void on_rcpt(const mail::Envelope&, const mail::Recipient& r, std::function<void(smtp::Reply)> done) override {
    done(r.address.local.empty() ? smtp::Reply{550, "5.1.1", "no"} : smtp::Reply{250, "2.1.5", "OK"});
  }
  void on_data(const mail::Envelope& env, mail::Spool& spool,
               std::function<void(std::vector<smtp::Reply>)> done) override {
    char buf[256];
    uint64_t off = 0;
    for (;;) {
      auto n = spool.read_at(off, buf, sizeof buf);
      if (!n || *n == 0) break;
      off += *n;
    }
    if (off != spool.size()) std::abort();
    done(std::vector<smtp::Reply>(env.recipients.size(), smtp::Reply{250, "2.0.0", "Saved"}));
  }
  void on_reset() override {}
};

void check_replies(const std::string& out) {
  size_t pos = 0;
  while (pos < out.size()) {
    size_t end = out.find("\r\n", pos);
    if (end == std::string::npos || end - pos < 4) std::abort();
    for (size_t i = 0; i < 3; ++i)
      if (out[pos + i] < '0' || out[pos + i] > '9') std::abort();
    std::string_view line(out.data() + pos, end - pos);
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos) std::abort();
    pos = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  AcceptAll handler;
  smtp::SessionConfig cfg;
  cfg.hostname = "mx.test.example";
  cfg.max_mail_size = 4096;
  cfg.spool_memory_limit = 512;  // exercise the file spool too
  cfg.max_line_length = 200;
  cfg.max_recipients = 5;
  smtp::ServerSession s(cfg, mail::ClientInfo{}, "SID", handler);
  s.start();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first byte chooses a feed pattern so splits inside commands and bodies get covered.
  size_t step = in.empty() ? 1 : (static_cast<uint8_t>(in[0]) % 17) + 1;
  std::string out = s.take_output();
  for (size_t i = 0; i < in.size(); i += step) {
    bool was_closed = s.should_close();
    s.feed(in.substr(i, step));
    std::string o = s.take_output();
    if (was_closed && !o.empty()) std::abort();
    out += o;
  }
  s.on_eof();
  check_replies(out);
  return 0;
}
