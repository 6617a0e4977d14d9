// log.hpp — process-wide structured log with Dovecot's three paths.
//
// Purpose: every room logs through here; the daemon configures the sinks from settings
// (log_path, info_log_path, debug_log_path, log_timestamp, syslog_facility, mail_debug).
// "syslog" as a path means syslog(3); "" for info/debug means "same as the next more severe".
// Depends on: std only. Threading: write() is thread-safe; configure() replaces the sinks
// atomically (safe to call on SIGHUP reload while other threads log).
#pragma once

#include <string>
#include <string_view>

namespace dovetail::base::log {

enum class Level { kDebug, kInfo, kWarning, kError, kFatal };

struct LogConfig {
  std::string log_path = "/dev/stderr";  // errors and warnings (Dovecot: log_path)
  std::string info_log_path;             // "" = log_path
  std::string debug_log_path;            // "" = info_log_path
  std::string log_timestamp = "%b %d %H:%M:%S ";  // strftime format, prefixed to file lines
  std::string syslog_facility = "mail";
  bool debug = false;                    // mail_debug: debug lines are dropped unless set
};

void configure(const LogConfig& config);

// One line: "<timestamp><prefix><Level>: <message>" e.g.
// "Nov 23 21:00:00 lmtp(alice@x)<123><SID>: Info: msgid=<a@b>: saved mail to INBOX".
void write(Level level, std::string_view prefix, std::string_view message);

inline void debug(std::string_view prefix, std::string_view m) { write(Level::kDebug, prefix, m); }
inline void info(std::string_view prefix, std::string_view m) { write(Level::kInfo, prefix, m); }
inline void warning(std::string_view prefix, std::string_view m) { write(Level::kWarning, prefix, m); }
inline void error(std::string_view prefix, std::string_view m) { write(Level::kError, prefix, m); }

}  // namespace dovetail::base::log
