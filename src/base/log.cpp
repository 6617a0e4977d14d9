// File and syslog sinks behind log.hpp. Each level goes to the path Dovecot would use:
// errors/warnings/fatal -> log_path, info -> info_log_path (else log_path), debug ->
// debug_log_path (else the info sink). A line is written with one write(2) on an O_APPEND fd
// so concurrent writers (and logrotate's copy) never interleave within a line.
#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <ctime>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/local_time.hpp"
#include "base/log.hpp"

namespace dovetail::base::log {
namespace {

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "Debug";
    case Level::kInfo: return "Info";
    case Level::kWarning: return "Warning";
    case Level::kError: return "Error";
    case Level::kFatal: return "Fatal";
  }
  return "Info";
}

int syslog_priority(Level level) {
  switch (level) {
    case Level::kDebug: return LOG_DEBUG;
    case Level::kInfo: return LOG_INFO;
    case Level::kWarning: return LOG_WARNING;
    case Level::kError: return LOG_ERR;
    case Level::kFatal: return LOG_CRIT;
  }
  return LOG_INFO;
}

int syslog_facility(const std::string& name) {
  static const std::map<std::string, int> table = {
      {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
      {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
      {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};
  auto it = table.find(name);
  return it == table.end() ? LOG_MAIL : it->second;
}

struct Sink {
  bool syslog = false;
  int fd = -1;
  bool owns_fd = false;
  ~Sink() {
    if (owns_fd && fd >= 0) ::close(fd);
  }
};

void real_syslog(int priority, const char* line) { ::syslog(priority, "%s", line); }

struct Sinks {
  LogConfig config;
  void (*syslog_write)(int priority, const char* line) = real_syslog;
  std::shared_ptr<Sink> error, info, debug;
  std::map<std::string, std::shared_ptr<Sink>> by_path;
};

std::shared_ptr<Sink> open_sink(const std::string& path) {
  auto s = std::make_shared<Sink>();
  if (path == "syslog") {
    s->syslog = true;
  } else if (path.empty() || path == "/dev/stderr") {
    s->fd = STDERR_FILENO;
  } else if (path == "/dev/stdout") {
    s->fd = STDOUT_FILENO;
  } else {
    s->fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (s->fd < 0) {
      // Cannot log to where we were told: say so on stderr and keep going there.
      std::string msg = "dovetail: cannot open log file " + path + ": " + std::strerror(errno) + "\n";
      (void)!::write(STDERR_FILENO, msg.data(), msg.size());
      s->fd = STDERR_FILENO;
    } else {
      s->owns_fd = true;
    }
  }
  return s;
}

std::mutex g_mutex;
std::shared_ptr<const Sinks> g_sinks;

void real_openlog(const char* ident, int option, int facility) { ::openlog(ident, option, facility); }
SyslogFunctions g_syslog{real_openlog, real_syslog};  // guarded by g_mutex

// openlog(3) keeps the ident pointer, so every ident ever used stays allocated (a handful
// at most: one per distinct instance_name across reloads).
const char* lasting_ident(const std::string& ident) {
  static std::mutex mu;
  static std::list<std::string> idents;
  std::lock_guard lock(mu);
  for (const auto& i : idents)
    if (i == ident) return i.c_str();
  return idents.emplace_back(ident).c_str();
}

std::shared_ptr<const Sinks> current() {
  std::lock_guard lock(g_mutex);
  if (!g_sinks) {
    auto s = std::make_shared<Sinks>();
    s->error = s->info = s->debug = open_sink("/dev/stderr");
    g_sinks = s;
  }
  return g_sinks;
}

}  // namespace

void set_syslog_functions(const SyslogFunctions& fns) {
  std::lock_guard lock(g_mutex);
  g_syslog.open = fns.open ? fns.open : real_openlog;
  g_syslog.write = fns.write ? fns.write : real_syslog;
}

void configure(const LogConfig& config) {
  auto s = std::make_shared<Sinks>();
  s->config = config;
  // Paths already open stay open: after a privilege drop a SIGHUP reload could not reopen
  // a root-owned log file (Dovecot's log process keeps its fds for the same reason).
  std::map<std::string, std::shared_ptr<Sink>> opened;  // one fd per distinct path
  {
    std::lock_guard lock(g_mutex);
    if (g_sinks) {
      for (const auto& [path, sink] : g_sinks->by_path) {
        const bool failed_open = !sink->owns_fd && !sink->syslog && path != "/dev/stderr" &&
                                 path != "/dev/stdout" && !path.empty();
        if (!failed_open) opened[path] = sink;  // a path that failed is tried again
      }
    }
  }
  auto get = [&](const std::string& p) {
    auto it = opened.find(p);
    if (it != opened.end()) {
      s->by_path[p] = it->second;
      return it->second;
    }
    auto sink = open_sink(p);
    opened[p] = sink;
    s->by_path[p] = sink;
    return sink;
  };
  std::string error_path = config.log_path.empty() ? "/dev/stderr" : config.log_path;
  std::string info_path = config.info_log_path.empty() ? error_path : config.info_log_path;
  std::string debug_path = config.debug_log_path.empty() ? info_path : config.debug_log_path;
  s->error = get(error_path);
  s->info = get(info_path);
  s->debug = get(debug_path);
  std::lock_guard lock(g_mutex);
  s->syslog_write = g_syslog.write;
  if (s->error->syslog || s->info->syslog || s->debug->syslog) {
    // As Dovecot's log process: i_set_failure_syslog(instance_name, LOG_NDELAY, facility).
    const std::string& ident = config.syslog_ident.empty() ? std::string("dovecot") : config.syslog_ident;
    g_syslog.open(lasting_ident(ident), LOG_NDELAY, syslog_facility(config.syslog_facility));
  }
  g_sinks = s;  // old sinks close when the last writer drops them
}

namespace {

// The sink of `level`, or nullptr when the line is dropped (debug without mail_debug).
const Sink* sink_for(const Sinks& sinks, Level level) {
  if (level == Level::kDebug && !sinks.config.debug) return nullptr;
  return level == Level::kDebug ? sinks.debug.get() : level == Level::kInfo ? sinks.info.get() : sinks.error.get();
}

// Syslog sinks get the line here; file sinks get it appended to `out`, newline included.
void format(const Sinks& sinks, const Sink& sink, Level level, std::string_view prefix, std::string_view message,
            std::string& out) {
  if (sink.syslog) {
    // Dovecot's syslog handler writes the level word for every type except Info.
    std::string line;
    line.reserve(prefix.size() + message.size() + 16);
    line.append(prefix);
    if (level != Level::kInfo) line.append(level_name(level)).append(": ");
    line.append(message);
    sinks.syslog_write(syslog_priority(level), line.c_str());
    return;
  }
  const LogConfig& c = sinks.config;
  if (!c.log_timestamp.empty()) {
    // Lines of one second share their timestamp: strftime once per thread, second and format.
    thread_local uint64_t stamp_conversion = 0;
    thread_local std::string stamp_format;
    thread_local std::string stamp;
    const LocalTime local = local_time(std::time(nullptr));
    if (local.conversion != stamp_conversion || stamp_format != c.log_timestamp) {
      char ts[128];
      size_t n = std::strftime(ts, sizeof ts, c.log_timestamp.c_str(), &local.tm);
      stamp.assign(ts, n);
      stamp_format = c.log_timestamp;
      stamp_conversion = local.conversion;
    }
    out.append(stamp);
  }
  out.append(prefix).append(level_name(level)).append(": ").append(message).push_back('\n');
}

// Lines batched into one write stay within what a pipe writes atomically, so a batch never
// interleaves with another process's lines on a shared stderr pipe.
constexpr size_t kAtomicWrite = PIPE_BUF;

}  // namespace

void write(Level level, std::string_view prefix, std::string_view message) {
  auto sinks = current();
  const Sink* sink = sink_for(*sinks, level);
  if (sink == nullptr) return;
  std::string line;
  if (!sink->syslog) line.reserve(prefix.size() + message.size() + 48);
  format(*sinks, *sink, level, prefix, message, line);
  if (!line.empty()) (void)!::write(sink->fd, line.data(), line.size());
}

void write_lines(std::span<const Line> lines) {
  auto sinks = current();
  std::string pending;
  int pending_fd = -1;
  auto flush = [&] {
    if (!pending.empty()) (void)!::write(pending_fd, pending.data(), pending.size());
    pending.clear();
  };
  for (const auto& l : lines) {
    const Sink* sink = sink_for(*sinks, l.level);
    if (sink == nullptr) continue;
    if (sink->syslog) {
      flush();  // keep the order of lines across sinks
      std::string unused;
      format(*sinks, *sink, l.level, l.prefix, l.message, unused);
      continue;
    }
    std::string line;
    format(*sinks, *sink, l.level, l.prefix, l.message, line);
    if (sink->fd != pending_fd || pending.size() + line.size() > kAtomicWrite) {
      flush();
      pending_fd = sink->fd;
    }
    pending += line;
  }
  flush();
}

}  // namespace dovetail::base::log
