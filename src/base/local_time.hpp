// local_time.hpp — the local broken-down time of a second, converted once per thread.
//
// Purpose: a delivery converts the current second several times (the Received header's date,
// each log line's timestamp). glibc's localtime_r takes a process-wide lock and cost ~4,800
// instructions per Received date (bench/profile callgrind); within one second and zone the
// answer is the same, so each thread keeps its last conversion. Callers that format the
// result keep their text until `conversion` changes.
// Depends on: <ctime>. Threading: the cache is thread_local; no locks.
#pragma once

#include <cstdint>
#include <ctime>

namespace dovetail::base {

struct LocalTime {
  const std::tm& tm;    // the calling thread's copy: valid until its next local_time()
  uint64_t conversion;  // differs (in this thread) whenever tm was converted anew
};

// localtime_r(t), reused while t and the zone glibc last loaded (tzset(): TZ,
// /etc/localtime) are those of the calling thread's previous call.
LocalTime local_time(std::time_t t);

}  // namespace dovetail::base
