// Minimal implementation: stderr only. The daemon issue replaces it with file/syslog sinks.
#include "base/log.hpp"

#include <cstdio>
#include <mutex>

namespace dovetail::base::log {
namespace {
std::mutex g_mutex;
LogConfig g_config;

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
}  // namespace

void configure(const LogConfig& config) {
  std::lock_guard lock(g_mutex);
  g_config = config;
}

void write(Level level, std::string_view prefix, std::string_view message) {
  std::lock_guard lock(g_mutex);
  if (level == Level::kDebug && !g_config.debug) return;
  std::fprintf(stderr, "%.*s%s: %.*s\n", static_cast<int>(prefix.size()), prefix.data(),
               level_name(level), static_cast<int>(message.size()), message.data());
}

}  // namespace dovetail::base::log
