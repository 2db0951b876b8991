// A cheap monotonic clock for connection deadlines.
//
// CLOCK_MONOTONIC_COARSE costs a few nanoseconds per read (vDSO, no system call) and ticks once
// per scheduler tick (1–4 ms): ample for timeouts of hundreds of milliseconds. Thread safe.
#pragma once

#include <time.h>

#include <chrono>

namespace keyward::http {

struct CoarseClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<CoarseClock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  }
};

}  // namespace keyward::http
