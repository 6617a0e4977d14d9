#include "base/local_time.hpp"

namespace dovetail::base {

LocalTime local_time(std::time_t t) {
  struct Cached {
    std::time_t second = -1;
    long zone_offset = 0;
    const char* zone_names[2] = {nullptr, nullptr};
    std::tm tm{};
    uint64_t conversion = 0;
  };
  thread_local Cached c;
  // tzset() (a changed TZ) replaces these globals; localtime_r itself never reloads the
  // zone once loaded, so they name the zone the conversion below would use.
  if (c.conversion == 0 || c.second != t || t == -1 || c.zone_offset != ::timezone ||
      c.zone_names[0] != ::tzname[0] || c.zone_names[1] != ::tzname[1]) {
    c.tm = std::tm{};
    ::localtime_r(&t, &c.tm);  // may load the zone, which sets the globals read next
    c.second = t;
    c.zone_offset = ::timezone;
    c.zone_names[0] = ::tzname[0];
    c.zone_names[1] = ::tzname[1];
    ++c.conversion;
  }
  return {c.tm, c.conversion};
}

}  // namespace dovetail::base
