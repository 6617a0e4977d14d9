// coarse_clock.hpp — waiting for the next second of CLOCK_MONOTONIC_COARSE.
//
// Purpose: the passwd-file driver re-checks its file at most once per coarse second (as
// Dovecot does); a test that edits the file waits for the next second instead of sleeping a
// guessed while.
#pragma once

#include <time.h>

#include <chrono>
#include <thread>

namespace dovetail::testlib {

inline time_t coarse_second() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return ts.tv_sec;
}

inline void wait_for_next_coarse_second() {
  const time_t now = coarse_second();
  while (coarse_second() == now) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace dovetail::testlib
