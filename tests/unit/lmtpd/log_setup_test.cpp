#include "lmtpd/log_setup.hpp"

#include <gtest/gtest.h>

#include "testlib/temp_dir.hpp"

namespace dovetail::lmtpd {
namespace {

config::Settings with_executable(const std::string& exe) {
  config::Settings s;
  config::Service svc;
  svc.name = "lmtp";
  svc.executable = exe;
  s.services = {svc};
  return s;
}

TEST(LogSetup, DashLSelectsProtocolLogPaths) {
  struct Case {
    const char* executable;
    bool protocol_paths;
  };
  const Case cases[] = {{"lmtp -L", true}, {"lmtp", false}, {"", false}, {"lmtp -L -x", true}, {"-L", false}};
  for (const auto& c : cases) {
    auto lmtp = with_executable(c.executable);
    lmtp.info_log_path = "/var/log/dovecot-lmtp.log";
    auto global = with_executable(c.executable);
    global.info_log_path = "/var/log/dovecot-info.log";
    auto lc = log_config_for(lmtp, global);
    EXPECT_EQ(lc.info_log_path, c.protocol_paths ? "/var/log/dovecot-lmtp.log" : "/var/log/dovecot-info.log")
        << c.executable;
  }
}

// instance_name is Dovecot's syslog ident; syslog_facility follows the same source.
TEST(LogSetup, InstanceNameIsTheSyslogIdent) {
  config::Settings defaults;
  EXPECT_EQ(log_config_for(defaults, defaults).syslog_ident, "dovecot");
  config::Settings named;
  named.instance_name = "mx2";
  named.syslog_facility = "local1";
  auto lc = log_config_for(named, named);
  EXPECT_EQ(lc.syslog_ident, "mx2");
  EXPECT_EQ(lc.syslog_facility, "local1");
}

// The sinks themselves: each level lands in the file Dovecot would use.
TEST(LogSinks, LevelsGoToTheirPaths) {
  testlib::TempDir dir;
  base::log::LogConfig c;
  c.log_path = dir.str() + "/errors.log";
  c.info_log_path = dir.str() + "/info.log";
  c.log_timestamp = "";
  c.debug = false;
  base::log::configure(c);
  base::log::info("lmtp(1): ", "saved");
  base::log::error("lmtp(1): ", "broken");
  base::log::debug("lmtp(1): ", "hidden");
  c.debug = true;
  base::log::configure(c);
  base::log::debug("lmtp(1): ", "shown");
  base::log::configure(base::log::LogConfig{});
  EXPECT_EQ(testlib::read_file(dir.path() / "info.log"),
            "lmtp(1): Info: saved\nlmtp(1): Debug: shown\n");
  EXPECT_EQ(testlib::read_file(dir.path() / "errors.log"), "lmtp(1): Error: broken\n");
}

}  // namespace
}  // namespace dovetail::lmtpd
