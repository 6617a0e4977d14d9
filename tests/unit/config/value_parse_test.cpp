// Dovecot value syntax: each row is a value as an admin writes it and what it means.
#include "config/value_parse.hpp"

#include <gtest/gtest.h>

namespace dovetail::config {
namespace {

using std::chrono::milliseconds;

TEST(ValueParse, Sizes) {
  struct Case { const char* in; std::optional<uint64_t> bytes; };
  const Case cases[] = {
      {"0", 0}, {"100", 100}, {"100B", 100}, {"100k", 100 * 1024}, {"100 K", 100 * 1024},
      {"10M", 10ull << 20}, {"10 MB", 10ull << 20}, {"1G", 1ull << 30}, {"1 GiB", 1ull << 30},
      {"2T", 2ull << 40}, {"", std::nullopt}, {"M", std::nullopt}, {"10 X", std::nullopt},
      {"-1", std::nullopt}, {"99999999999999T", std::nullopt},
  };
  for (const auto& c : cases) {
    std::string err;
    auto got = parse_size(c.in, err);
    EXPECT_EQ(got, c.bytes) << c.in;
    if (!c.bytes) {
      EXPECT_FALSE(err.empty()) << c.in;
    }
  }
}

TEST(ValueParse, Times) {
  struct Case { const char* in; std::optional<milliseconds> t; };
  const Case cases[] = {
      {"0", milliseconds(0)}, {"30", milliseconds(30000)}, {"30 secs", milliseconds(30000)},
      {"30s", milliseconds(30000)}, {"5 mins", milliseconds(300000)}, {"5m", milliseconds(300000)},
      {"1h", milliseconds(3600000)}, {"1 hours", milliseconds(3600000)}, {"2 days", milliseconds(172800000)},
      {"1 weeks", milliseconds(604800000)}, {"250ms", milliseconds(250)}, {"250 msecs", milliseconds(250)},
      {"soon", std::nullopt}, {"5 fortnights", std::nullopt}, {"", std::nullopt},
  };
  for (const auto& c : cases) {
    std::string err;
    EXPECT_EQ(parse_time(c.in, err), c.t) << c.in;
  }
}

TEST(ValueParse, BoolsAndNumbers) {
  std::string err;
  EXPECT_EQ(parse_bool("yes", err), true);
  EXPECT_EQ(parse_bool("no", err), false);
  EXPECT_EQ(parse_bool("maybe", err), std::nullopt);
  EXPECT_EQ(err, "Invalid boolean value: maybe (use yes or no)");
  EXPECT_EQ(parse_uint("0500", err), 500u);
  EXPECT_EQ(parse_uint("abc", err), std::nullopt);
  EXPECT_EQ(err, "Invalid number abc: Not a valid number");
  EXPECT_EQ(parse_octal("0666", err), 0666u);
  EXPECT_EQ(parse_octal("0999", err), std::nullopt);
}

TEST(ValueParse, FormatsLikeDoveconf) {
  EXPECT_EQ(format_time(milliseconds(60000)), "1 mins");
  EXPECT_EQ(format_time(milliseconds(3600000)), "1 hours");
  EXPECT_EQ(format_time(milliseconds(90000)), "90 secs");
  EXPECT_EQ(format_time(milliseconds(1500)), "1500 ms");
  EXPECT_EQ(format_size(10ull << 20), "10 M");
  EXPECT_EQ(format_size(10240ull * 1024), "10 M");
  EXPECT_EQ(format_size(1000), "1000 B");
  EXPECT_EQ(format_octal(0666), "0666");
  EXPECT_EQ(normalize(ValueKind::kTime, "60s"), "1 mins");
  EXPECT_EQ(normalize(ValueKind::kSize, "10240k"), "10 M");
  EXPECT_EQ(normalize(ValueKind::kUint, "0500"), "500");
  EXPECT_EQ(normalize(ValueKind::kTime, "garbage"), "garbage");
}

TEST(ValueParse, Lists) {
  EXPECT_EQ(split_list("imap  pop3 lmtp"), (std::vector<std::string>{"imap", "pop3", "lmtp"}));
  EXPECT_EQ(split_list(" lmtp"), (std::vector<std::string>{"lmtp"}));
  EXPECT_EQ(split_list("a, b,c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_list("").empty());
}

}  // namespace
}  // namespace dovetail::config
