// smtp_data_fuzz — the DATA and BDAT body decoders against a reference model.
// The input is split at fuzzer-chosen offsets; the result must not depend on the splits, the
// DATA reader must stop exactly after the first <CRLF>.<CRLF> (or the "." line at the start),
// and the BDAT decoder must equal "CRLF -> LF" of the concatenated chunks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "smtp/data_reader.hpp"

namespace {

using namespace dovetail;

std::string collect(mail::Spool& spool) {
  std::string s;
  char buf[512];
  uint64_t off = 0;
  for (;;) {
    auto n = spool.read_at(off, buf, sizeof buf);
    if (!n || *n == 0) break;
    s.append(buf, *n);
    off += *n;
  }
  return s;
}

// Reference: find the terminator, then unstuff line by line.
bool reference_data(std::string_view in, std::string& body, size_t& used) {
  size_t end;
  if (in.substr(0, 3) == ".\r\n") {
    end = 0;
    used = 3;
  } else {
    end = in.find("\r\n.\r\n");
    if (end == std::string_view::npos) return false;
    end += 2;
    used = end + 3;
  }
  std::string_view msg = in.substr(0, end);
  body.clear();
  bool line_start = true;
  for (size_t i = 0; i < msg.size(); ++i) {
    char c = msg[i];
    if (line_start && c == '.') {
      line_start = false;
      continue;
    }
    line_start = false;
    if (c == '\r' && i + 1 < msg.size() && msg[i + 1] == '\n') {
      body.push_back('\n');
      ++i;
      line_start = true;
      continue;
    }
    body.push_back(c);
  }
  return true;
}

std::string reference_chunks(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n') {
      out.push_back('\n');
      ++i;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t step = data[0] % 13 + 1;
  uint64_t limit = data[1] % 4 == 0 ? 64 : 0;  // sometimes a SIZE limit
  std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);

  {  // DATA
    mail::Spool spool(100, "/tmp");
    smtp::BodyWriter w;
    w.start(&spool, limit);
    smtp::DataReader r;
    r.start();
    size_t used = 0;
    for (size_t i = 0; i < in.size() && !r.done(); i += step) used += r.consume(in.substr(i, std::min(step, in.size() - i)), w);
    // consume() may stop inside a piece: what it left over is not part of the body.
    w.finish();
    std::string want;
    size_t want_used = 0;
    bool ends = reference_data(in, want, want_used);
    if (ends != r.done()) std::abort();
    if (ends) {
      if (used != want_used) std::abort();
      if (limit != 0 && w.too_big()) {
        if (spool.size() != 0) std::abort();
      } else if (collect(spool) != want) {
        std::abort();
      }
    }
  }
  {  // BDAT
    mail::Spool spool(100, "/tmp");
    smtp::BodyWriter w;
    w.start(&spool, 0);
    smtp::ChunkDecoder d;
    d.start();
    for (size_t i = 0; i < in.size(); i += step) d.decode(in.substr(i, std::min(step, in.size() - i)), w);
    d.end(w);
    w.finish();
    if (collect(spool) != reference_chunks(in)) std::abort();
    if (w.octets() != in.size()) std::abort();
  }
  return 0;
}
