// count_lf_not_after_cr against a byte-by-byte reference: every length and start offset
// around the 16- and 32-octet blocks, CRs and LFs on block edges, the carried CR.
#include "mail/line_feeds.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace dovetail::mail {
namespace {

uint64_t reference(std::string_view s, bool after_cr) {
  uint64_t n = 0;
  for (char c : s) {
    if (c == '\n' && !after_cr) ++n;
    after_cr = c == '\r';
  }
  return n;
}

TEST(LineFeeds, MatchesTheReferenceEverywhere) {
  std::mt19937 rng(7);
  const char alphabet[] = {'\r', '\n', 'a', '\r', '\n', '.', '\0', '\xff'};
  std::string text(300, 'x');
  for (int round = 0; round < 40; ++round) {
    for (auto& c : text) c = alphabet[rng() % sizeof alphabet];
    for (size_t start = 0; start < 40; ++start) {
      for (size_t len = 0; start + len <= text.size(); len += (len < 70 ? 1 : 23)) {
        std::string_view s(text.data() + start, len);
        for (bool after : {false, true}) ASSERT_EQ(count_lf_not_after_cr(s, after), reference(s, after));
      }
    }
  }
}

TEST(LineFeeds, CrOnEveryBlockEdge) {
  for (size_t edge : {15u, 16u, 31u, 32u, 63u, 64u}) {
    std::string s(100, 'x');
    s[edge] = '\r';
    s[edge + 1] = '\n';  // a CRLF split by the block boundary: not counted
    s[edge + 3] = '\n';  // a bare LF: counted
    EXPECT_EQ(count_lf_not_after_cr(s, false), 1u) << edge;
  }
  EXPECT_EQ(count_lf_not_after_cr("\n", true), 0u);
  EXPECT_EQ(count_lf_not_after_cr(std::string(40, '\n'), true), 39u);
  EXPECT_EQ(count_lf_not_after_cr(std::string(40, '\n'), false), 40u);
  EXPECT_EQ(count_lf_not_after_cr("", true), 0u);
}

}  // namespace
}  // namespace dovetail::mail
