#include "mail/spool.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "testlib/temp_dir.hpp"

namespace dovetail::mail {
namespace {

std::string read_all(const Spool& s) {
  std::string out;
  char buf[7];  // odd size: exercises partial reads
  uint64_t off = 0;
  for (;;) {
    auto n = s.read_at(off, buf, sizeof buf);
    EXPECT_TRUE(n);
    if (!n || *n == 0) break;
    out.append(buf, *n);
    off += *n;
  }
  return out;
}

TEST(Spool, StaysInMemoryUpToTheLimit) {
  testlib::TempDir dir;
  Spool s(16, dir.str());
  ASSERT_TRUE(s.append("0123456789"));
  ASSERT_TRUE(s.append("abcdef"));  // exactly 16
  ASSERT_TRUE(s.finish());
  EXPECT_TRUE(s.in_memory());
  EXPECT_EQ(s.memory(), "0123456789abcdef");
  EXPECT_EQ(read_all(s), "0123456789abcdef");
  EXPECT_EQ(s.size(), 16u);
}

TEST(Spool, SpillsToAnUnlinkedFileAtTheLimit) {
  testlib::TempDir dir;
  Spool s(16, dir.str());
  ASSERT_TRUE(s.append("line one\n"));
  ASSERT_TRUE(s.append("line two\nthree"));  // 23 > 16
  ASSERT_TRUE(s.finish());
  EXPECT_FALSE(s.in_memory());
  EXPECT_TRUE(s.memory().empty());
  EXPECT_GE(s.fd(), 0);
  EXPECT_EQ(read_all(s), "line one\nline two\nthree");
  EXPECT_EQ(s.size(), 23u);
  EXPECT_EQ(s.line_feeds(), 2u);
  struct stat st {};
  ASSERT_EQ(fstat(s.fd(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_nlink, 0u);  // no name anywhere
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Spool, ClearDropsEverythingAndIsReusable) {
  testlib::TempDir dir;
  Spool s(4, dir.str());
  ASSERT_TRUE(s.append("0123456789\n"));
  EXPECT_FALSE(s.in_memory());
  s.clear();
  EXPECT_TRUE(s.in_memory());
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.line_feeds(), 0u);
  ASSERT_TRUE(s.append("ab"));
  EXPECT_EQ(read_all(s), "ab");
}

TEST(Spool, MissingTempDirIsATemporaryError) {
  Spool s(1, "/nonexistent/dovetail-spool-dir");
  auto st = s.append("too much");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, base::ErrorKind::kTemporary);
  EXPECT_NE(st.error().sys_errno, 0);
}

TEST(Spool, ReadPastEndIsZero) {
  Spool s(100, "/tmp");
  ASSERT_TRUE(s.append("abc"));
  char b[4];
  EXPECT_EQ(*s.read_at(3, b, 4), 0u);
  EXPECT_EQ(*s.read_at(99, b, 4), 0u);
  EXPECT_EQ(*s.read_at(1, b, 4), 2u);
}

// W= counts only the LFs a CRLF conversion would grow: a stored "\r\n" (from "\r\r\n" on the
// wire) is already CRLF. The CR may end one append and its LF start the next.
TEST(Spool, LineFeedsSkipStoredCrlfAcrossAppends) {
  struct Case {
    std::vector<std::string> parts;
    uint64_t want;
  };
  const Case cases[] = {
      {{"a\nb\n"}, 2},
      {{"a\r\nb\n"}, 1},
      {{"a\r", "\nb\n"}, 1},
      {{"a\r", "", "\n"}, 0},
      {{"\n", "\n"}, 2},
      {{"a\r\r\n\n"}, 1},
      {{"\rx\n"}, 1},
  };
  testlib::TempDir dir;
  for (const auto& c : cases) {
    for (uint64_t limit : {uint64_t{1}, uint64_t{1024}}) {  // file-backed and in memory
      Spool s(limit, dir.str());
      for (const auto& p : c.parts) ASSERT_TRUE(s.append(p));
      EXPECT_EQ(s.line_feeds(), c.want) << c.parts.size() << " parts, limit " << limit;
    }
  }
  Spool s(1024, dir.str());
  ASSERT_TRUE(s.append("a\r"));
  s.clear();
  ASSERT_TRUE(s.append("\n"));
  EXPECT_EQ(s.line_feeds(), 1u);  // clear() forgets the trailing CR
}

}  // namespace
}  // namespace dovetail::mail
