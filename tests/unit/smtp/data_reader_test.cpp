// DATA and BDAT body decoding: each vector whole, one byte at a time, split at every offset.
#include "smtp/data_reader.hpp"

#include <gtest/gtest.h>

#include "smtp/line_reader.hpp"
#include "smtp/command_line.hpp"

namespace dovetail::smtp {
namespace {

struct DataCase {
  std::string wire;    // after the 354
  bool ends;           // contains the terminator
  std::string stored;  // body as stored
  size_t consumed;     // octets used (rest belongs to the next command)
};

std::vector<DataCase> data_cases() {
  return {
      {".\r\n", true, "", 3},
      {"a\r\n.\r\n", true, "a\n", 6},
      {"a\r\n.\r\nNOOP\r\n", true, "a\n", 6},
      {"..dot\r\n.\r\n", true, ".dot\n", 10},
      {"...\r\n.\r\n", true, "..\n", 8},
      {"body\n.\nmore\r\n.\r\n", true, "body\n.\nmore\n", 16},
      {"a\rb\r\n.\r\n", true, "a\rb\n", 8},
      {"a\r\r\n.\r\n", true, "a\r\n", 7},
      {std::string("nul\0x\x80\xff\r\n.\r\n", 12), true, std::string("nul\0x\x80\xff\n", 8), 12},
      {".x\r\n.\r\n", true, "x\n", 7},
      {".\rx\r\n.\r\n", true, "\rx\n", 8},
      {"no end\r\n", false, "no end\n", 8},
      {"a\r\n.", false, "a\n", 4},
      {"a\r\n.\r", false, "a\n", 5},
      {"x.\r\n.\r\n", true, "x.\n", 7},
      {"\r\n.\r\n", true, "\n", 5},
  };
}

// W= counts every LF not preceded by CR twice: what the spool must report for `stored`.
uint64_t lfs_not_after_cr(std::string_view stored) {
  uint64_t n = 0;
  for (size_t i = 0; i < stored.size(); ++i)
    if (stored[i] == '\n' && (i == 0 || stored[i - 1] != '\r')) ++n;
  return n;
}

struct Sink {
  mail::Spool spool{1 << 20, "/tmp"};
  BodyWriter w;
  explicit Sink(uint64_t max = 0) { w.start(&spool, max); }
  std::string stored() {
    w.finish();
    std::string out(spool.size(), '\0');
    size_t got = 0;
    while (got < out.size()) {
      auto n = spool.read_at(got, out.data() + got, out.size() - got);
      if (!n || *n == 0) break;
      got += *n;
    }
    EXPECT_EQ(spool.line_feeds(), lfs_not_after_cr(out));
    return out;
  }
};

TEST(DataReader, Whole) {
  for (const auto& c : data_cases()) {
    Sink s;
    DataReader r;
    r.start();
    EXPECT_EQ(r.consume(c.wire, s.w), c.consumed) << c.wire;
    EXPECT_EQ(r.done(), c.ends) << c.wire;
    EXPECT_EQ(s.stored(), c.stored) << c.wire;
  }
}

TEST(DataReader, BytewiseAndSplit) {
  for (const auto& c : data_cases()) {
    for (size_t split = 0; split <= c.wire.size(); ++split) {
      for (int bytewise = 0; bytewise < 2; ++bytewise) {
        Sink s;
        DataReader r;
        r.start();
        size_t used = 0;
        std::vector<std::string_view> parts;
        std::string_view w(c.wire);
        if (bytewise) {
          for (size_t i = 0; i < w.size(); ++i) parts.push_back(w.substr(i, 1));
        } else {
          parts = {w.substr(0, split), w.substr(split)};
        }
        for (auto p : parts) {
          if (r.done()) break;
          used += r.consume(p, s.w);
        }
        EXPECT_EQ(used, c.consumed) << c.wire << " split " << split;
        EXPECT_EQ(r.done(), c.ends);
        EXPECT_EQ(s.stored(), c.stored) << c.wire << " split " << split;
      }
    }
  }
}

// Bodies larger than the writer's batch, spilled to a file: long runs of plain lines (the
// bulk path), dot-stuffed and empty lines, bare CRs, a line longer than any batch, and
// reads that end mid-line, mid-CRLF and just after a dot.
TEST(DataReader, LargeBodiesAnyReadSize) {
  std::string wire, want;
  for (int line = 0; line < 6000; ++line) {
    std::string text(static_cast<size_t>(line % 97), static_cast<char>('a' + line % 26));
    if (line % 13 == 0) text.clear();
    if (line % 17 == 0) text = "." + text;  // starts with a dot: stuffed on the wire
    if (line % 37 == 0) text += "\nlf";     // a bare LF inside the line
    if (line % 29 == 0) text += "\rx";      // a bare CR inside the line
    if (line % 31 == 0) text += "\r";       // "\r\r\n": stored "\r\n", no LF for W=
    wire += (line % 17 == 0 ? "." : "") + text + "\r\n";
    want += text + "\n";
  }
  std::string huge(200 * 1024, 'h');
  wire += huge + "\r\n";
  want += huge + "\n";
  wire += "end\r\n.\r\n";
  want += "end\n";
  for (size_t chunk : {size_t{1} << 20, size_t{16384}, size_t{4093}, size_t{100}, size_t{7}}) {
    mail::Spool spool(8192, "/tmp");  // spills to a file
    BodyWriter w;
    w.start(&spool, 0);
    DataReader r;
    r.start();
    size_t used = 0;
    for (size_t at = 0; at < wire.size() && !r.done(); at += chunk)
      used += r.consume(std::string_view(wire).substr(at, chunk), w);
    ASSERT_TRUE(r.done()) << chunk;
    EXPECT_EQ(used, wire.size());
    w.finish();
    ASSERT_FALSE(w.failed());
    EXPECT_FALSE(spool.in_memory());
    std::string got(spool.size(), '\0');
    for (size_t off = 0; off < got.size();) {
      auto n = spool.read_at(off, got.data() + off, got.size() - off);
      ASSERT_TRUE(n && *n > 0);
      off += *n;
    }
    EXPECT_TRUE(got == want) << "read size " << chunk;
    EXPECT_EQ(spool.line_feeds(), lfs_not_after_cr(want)) << chunk;
    EXPECT_EQ(w.octets(), wire.size() - 3 - 6000 / 17 - 1) << chunk;  // no ".\r\n", no stuffing dots
  }
}

// The SIZE limit holds in the bulk path as it does line by line: one octet over and the
// spool is empty, exactly at the limit and all is kept.
TEST(DataReader, SizeLimitInBulk) {
  std::string wire;
  for (int i = 0; i < 2000; ++i) wire += std::string(60, 'x') + "\r\n";
  const uint64_t octets = wire.size();
  wire += ".\r\n";
  for (uint64_t max : {octets, octets - 1}) {
    mail::Spool spool(4096, "/tmp");
    BodyWriter w;
    w.start(&spool, max);
    DataReader r;
    r.start();
    r.consume(wire, w);
    EXPECT_TRUE(r.done());
    w.finish();
    EXPECT_EQ(w.too_big(), max < octets);
    EXPECT_EQ(spool.size(), max < octets ? 0 : 2000u * 61);
    EXPECT_EQ(w.octets(), octets);
  }
}

TEST(DataReader, CountsWireOctetsForSize) {
  Sink s;
  DataReader r;
  r.start();
  r.consume("ab\r\n..c\r\n.\r\n", s.w);
  EXPECT_EQ(s.w.octets(), 8u);  // "ab\r\n.c\r\n" as the message is, unstuffed, CRLF
}

TEST(ChunkDecoder, CrlfAcrossChunks) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"a\r\nb"}, "a\nb"},
      {{"a\r", "\nb"}, "a\nb"},
      {{"a\r", "b"}, "a\rb"},
      {{"a\r"}, "a\r"},
      {{"a\r", "", "\n"}, "a\n"},
      {{"\r\r\n"}, "\r\n"},
      {{".\r\n"}, ".\n"},  // no dot-stuffing in BDAT
      {{std::string("\0\n", 2)}, std::string("\0\n", 2)},
  };
  for (const auto& [chunks, want] : cases) {
    Sink s;
    ChunkDecoder d;
    d.start();
    for (const auto& ch : chunks) d.decode(ch, s.w);
    d.end(s.w);
    EXPECT_EQ(s.stored(), want);
  }
}

TEST(BodyWriter, SizeLimitStoresNothing) {
  mail::Spool spool(4, "/tmp");
  BodyWriter w;
  w.start(&spool, 10);
  w.append("0123456789");
  EXPECT_FALSE(w.too_big());
  w.append("x");
  EXPECT_TRUE(w.too_big());
  w.append("more");
  w.finish();
  EXPECT_EQ(spool.size(), 0u);
  EXPECT_TRUE(spool.in_memory());
}

TEST(LineReader, Table) {
  struct Case {
    std::string in;
    std::vector<std::string> events;  // "L:<line>" or "TOO_LONG"
  };
  std::string max(10, 'x');
  const Case cases[] = {
      {"a\r\nb\n", {"L:a", "L:b"}},
      {max + "\r\n", {"L:" + max}},
      {max + "x\r\n", {"TOO_LONG"}},
      {max + "xxxxxxxxxxxxxxxxxxxxxxxx\r\nok\r\n", {"TOO_LONG", "L:ok"}},
      {"partial", {}},
      {"\r\n", {"L:"}},
      {"a\rb\r\n", {"L:a\rb"}},
  };
  for (const auto& c : cases) {
    for (int bytewise = 0; bytewise < 2; ++bytewise) {
      LineReader r(10);
      std::vector<std::string> got;
      std::string buf;
      size_t pos = 0;
      auto drain = [&] {
        for (;;) {
          auto ev = r.next(buf, pos);
          if (ev.kind == LineReader::Kind::kNeedMore) break;
          got.push_back(ev.kind == LineReader::Kind::kTooLong ? "TOO_LONG" : "L:" + std::string(ev.line));
        }
        buf.erase(0, pos);
        pos = 0;
      };
      if (bytewise) {
        for (char ch : c.in) {
          buf.push_back(ch);
          drain();
        }
      } else {
        buf = c.in;
        drain();
      }
      EXPECT_EQ(got, c.events) << c.in << " bytewise=" << bytewise;
    }
  }
}

TEST(CommandLine, Table) {
  struct Case {
    std::string line;
    bool ok;
    std::string verb;
    std::string args;
  };
  const Case cases[] = {
      {"NOOP", true, "NOOP", ""},
      {"noop x", true, "NOOP", "x"},
      {"MAIL FROM:<a@b>  SIZE=1", true, "MAIL", "FROM:<a@b>  SIZE=1"},
      {"RCPT TO:<jörg@x>", true, "RCPT", "TO:<jörg@x>"},
      {"BOGUS1", false, "", ""},
      // As Dovecot: an empty verb is the unknown command "", not a syntax error.
      {"", true, "", ""},
      {" ", true, "", ""},
      {" NOOP", true, "", "NOOP"},
      {"\t", false, "", ""},
      {"NOOP\tx", false, "", ""},
      {"NOOP a\x01", false, "", ""},
      {"NOOP \xc3", false, "", ""},
      {"NOOP \x7f", false, "", ""},
      {"NOOP a\tb", true, "NOOP", "a\tb"},
      // Trailing SP/HT dropped (RFC 5321 4.1.1); a second SP before parameters is invalid.
      {"NOOP  ", true, "NOOP", ""},
      {"NOOP \t ", true, "NOOP", ""},
      {"NOOP x \t", true, "NOOP", "x"},
      {"MAIL  FROM:<a@b>", false, "", ""},
      {"NOOP  x", false, "", ""},
      {std::string(32, 'A'), true, std::string(32, 'A'), ""},
      {std::string(33, 'A'), false, "", ""},
  };
  for (const auto& c : cases) {
    auto r = parse_command_line(c.line);
    ASSERT_EQ(r.has_value(), c.ok) << c.line;
    if (!c.ok) continue;
    EXPECT_EQ(r->verb, c.verb);
    EXPECT_EQ(r->args, c.args);
  }
}

}  // namespace
}  // namespace dovetail::smtp
