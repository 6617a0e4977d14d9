// log.hpp — process-wide structured log with Dovecot's three paths.
//
// Purpose: every room logs through here; the daemon configures the sinks from settings
// (log_path, info_log_path, debug_log_path, log_timestamp, syslog_facility, mail_debug).
// "syslog" as a path means syslog(3); "" for info/debug means "same as the next more severe".
// Syslog lines are Dovecot's: ident = instance_name ("dovecot"), no pid in the ident (the
// prefix carries it), and the level word is left out of Info lines only ("Error: ..." stays).
// Depends on: std only. Threading: write() is thread-safe; configure() replaces the sinks
// atomically (safe to call on SIGHUP reload while other threads log).
#pragma once

#include <span>
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
  std::string syslog_ident = "dovecot";  // Dovecot's instance_name
  bool debug = false;                    // mail_debug: debug lines are dropped unless set
};

void configure(const LogConfig& config);

// Test seam for the syslog sink: replaces openlog(3)/syslog(3); a default-constructed value
// restores them. Set it before configure().
struct SyslogFunctions {
  void (*open)(const char* ident, int option, int facility) = nullptr;
  void (*write)(int priority, const char* line) = nullptr;
};
void set_syslog_functions(const SyslogFunctions& fns);

// One line: "<timestamp><prefix><Level>: <message>" e.g.
// "Nov 23 21:00:00 lmtp(alice@x)<123><SID>: Info: msgid=<a@b>: saved mail to INBOX".
void write(Level level, std::string_view prefix, std::string_view message);

// Several lines with as few write(2)s as the sinks allow: consecutive lines for one file
// sink share a write (up to PIPE_BUF octets, so they stay whole on a pipe); syslog lines go
// one by one. For the lines of one transaction (one per recipient).
struct Line {
  Level level;
  std::string prefix;
  std::string message;
};
void write_lines(std::span<const Line> lines);

inline void debug(std::string_view prefix, std::string_view m) { write(Level::kDebug, prefix, m); }
inline void info(std::string_view prefix, std::string_view m) { write(Level::kInfo, prefix, m); }
inline void warning(std::string_view prefix, std::string_view m) { write(Level::kWarning, prefix, m); }
inline void error(std::string_view prefix, std::string_view m) { write(Level::kError, prefix, m); }

}  // namespace dovetail::base::log
