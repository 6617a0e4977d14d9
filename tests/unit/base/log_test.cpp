// Syslog lines as Dovecot writes them (lib/failures.c syslog_handler, log process openlog):
// ident = instance_name, no LOG_PID, no "Info: " but "Error: "/"Warning: " kept.
#include "base/log.hpp"

#include <syslog.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testlib/temp_dir.hpp"

namespace dovetail::base::log {
namespace {

struct Captured {
  std::string ident;
  int option = -1;
  int facility = -1;
  std::vector<std::pair<int, std::string>> lines;
};
Captured g_cap;

void fake_open(const char* ident, int option, int facility) {
  g_cap.ident = ident;
  g_cap.option = option;
  g_cap.facility = facility;
}
void fake_write(int priority, const char* line) { g_cap.lines.emplace_back(priority, line); }

class SyslogFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    g_cap = {};
    set_syslog_functions({fake_open, fake_write});
  }
  void TearDown() override {
    set_syslog_functions({});
    configure(LogConfig{});
  }
};

TEST_F(SyslogFormat, IdentIsInstanceNameWithoutPid) {
  LogConfig c;
  c.log_path = "syslog";
  configure(c);
  EXPECT_EQ(g_cap.ident, "dovecot");  // Dovecot's default instance_name
  EXPECT_EQ(g_cap.option & LOG_PID, 0);
  EXPECT_EQ(g_cap.facility, LOG_MAIL);

  c.syslog_ident = "mx2";
  c.syslog_facility = "local3";
  configure(c);
  EXPECT_EQ(g_cap.ident, "mx2");
  EXPECT_EQ(g_cap.facility, LOG_LOCAL3);
}

TEST_F(SyslogFormat, LevelWordOnlyWhenNotInfo) {
  LogConfig c;
  c.log_path = "syslog";
  c.debug = true;
  configure(c);
  const std::string prefix = "lmtp(alice@test.example)<42><SID>: ";
  write(Level::kInfo, prefix, "msgid=<a@b>: saved mail to INBOX");
  write(Level::kError, prefix, "open(/m) failed");
  write(Level::kWarning, prefix, "w");
  write(Level::kDebug, prefix, "d");
  ASSERT_EQ(g_cap.lines.size(), 4u);
  EXPECT_EQ(g_cap.lines[0], std::make_pair(LOG_INFO, prefix + "msgid=<a@b>: saved mail to INBOX"));
  EXPECT_EQ(g_cap.lines[1], std::make_pair(LOG_ERR, prefix + "Error: open(/m) failed"));
  EXPECT_EQ(g_cap.lines[2], std::make_pair(LOG_WARNING, prefix + "Warning: w"));
  EXPECT_EQ(g_cap.lines[3], std::make_pair(LOG_DEBUG, prefix + "Debug: d"));
}

// Files keep the level word on every line (Dovecot's default_handler).
TEST_F(SyslogFormat, FileLinesKeepInfo) {
  testlib::TempDir dir;
  LogConfig c;
  c.log_path = "syslog";
  c.info_log_path = dir.str() + "/info.log";
  c.log_timestamp = "";
  configure(c);
  write(Level::kInfo, "p: ", "hello");
  write(Level::kError, "p: ", "bad");
  EXPECT_EQ(testlib::read_file(dir.str() + "/info.log"), "p: Info: hello\n");
  ASSERT_EQ(g_cap.lines.size(), 1u);
  EXPECT_EQ(g_cap.lines[0].second, "p: Error: bad");
}

}  // namespace
}  // namespace dovetail::base::log

namespace dovetail::base::log {
namespace {

std::string slurp(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

// A transaction's lines: each to its level's file, in order, whole; debug dropped without
// mail_debug; syslog lines one by one with Dovecot's syslog format.
TEST_F(SyslogFormat, WriteLinesSendsEachLineToItsSinkInOrder) {
  testlib::TempDir tmp;
  LogConfig c;
  c.log_path = tmp.str() + "/errors.log";
  c.info_log_path = tmp.str() + "/info.log";
  c.log_timestamp = "";
  configure(c);
  std::vector<Line> lines = {{Level::kInfo, "lmtp(a)<1><s1>: ", "msgid=<m>: saved mail to INBOX"},
                             {Level::kDebug, "lmtp(a)<1><s1>: ", "not shown"},
                             {Level::kError, "lmtp(b)<1><s2>: ", "msgid=<m>: save failed to INBOX: EIO"},
                             {Level::kInfo, "lmtp(c)<1><s3>: ", "msgid=<m>: saved mail to INBOX"}};
  write_lines(lines);
  EXPECT_EQ(slurp(c.info_log_path),
            "lmtp(a)<1><s1>: Info: msgid=<m>: saved mail to INBOX\n"
            "lmtp(c)<1><s3>: Info: msgid=<m>: saved mail to INBOX\n");
  EXPECT_EQ(slurp(c.log_path), "lmtp(b)<1><s2>: Error: msgid=<m>: save failed to INBOX: EIO\n");

  c.log_path = "syslog";
  c.info_log_path = "";
  configure(c);
  write_lines(lines);
  ASSERT_EQ(g_cap.lines.size(), 3u);
  EXPECT_EQ(g_cap.lines[0], std::make_pair(LOG_INFO, std::string("lmtp(a)<1><s1>: msgid=<m>: saved mail to INBOX")));
  EXPECT_EQ(g_cap.lines[1].second, "lmtp(b)<1><s2>: Error: msgid=<m>: save failed to INBOX: EIO");
  EXPECT_EQ(g_cap.lines[2].first, LOG_INFO);
}

// More than a pipe's atomic write in one batch (it is split between lines): nothing lost, in order.
TEST_F(SyslogFormat, WriteLinesKeepsLargeBatchesWholeAndInOrder) {
  testlib::TempDir tmp;
  LogConfig c;
  c.log_path = tmp.str() + "/all.log";
  c.log_timestamp = "";
  configure(c);
  std::vector<Line> lines;
  for (int i = 0; i < 100; ++i)
    lines.push_back({Level::kInfo, "p: ", "line " + std::to_string(i) + " " + std::string(200, 'x')});
  write_lines(lines);
  std::string all = slurp(c.log_path);
  std::string expected;
  for (const auto& l : lines) expected += "p: Info: " + l.message + "\n";
  EXPECT_EQ(all, expected);
}

}  // namespace
}  // namespace dovetail::base::log
