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
