#include "lmtpd/rawlog.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "testlib/temp_dir.hpp"

namespace dovetail::lmtpd {
namespace {

TEST(Rawlog, WritesInAndOutVerbatim) {
  testlib::TempDir dir;
  {
    auto r = Rawlog::open(dir.str(), "abc/def+ghi");
    ASSERT_NE(r, nullptr);
    r->in("LHLO x\r\n");
    r->out("220 hi\r\n");
    r->in(std::string("\0\xff", 2));
  }
  std::vector<std::filesystem::path> files;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].extension(), ".in");
  EXPECT_EQ(files[1].extension(), ".out");
  EXPECT_NE(files[0].filename().string().find("-abc_def+ghi.in"), std::string::npos);
  EXPECT_EQ(testlib::read_file(files[0]), std::string("LHLO x\r\n\0\xff", 10));
  EXPECT_EQ(testlib::read_file(files[1]), "220 hi\r\n");
}

TEST(Rawlog, MissingDirectoryMeansNoRawlog) {
  testlib::TempDir dir;
  EXPECT_EQ(Rawlog::open(dir.str() + "/missing", "id"), nullptr);
  EXPECT_EQ(Rawlog::open("", "id"), nullptr);
}

}  // namespace
}  // namespace dovetail::lmtpd
