// The wall clock hbd uses for protocol times (`ts`, `server_ts`, last_seen):
// Unix seconds as a double, in whole microseconds (so json::write_number
// writes it with integer arithmetic, as in 1763840000.260113). Any thread.
#pragma once

#include <time.h>

namespace heartbeat::server {

inline double wall_now() noexcept {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  const long long us = static_cast<long long>(t.tv_sec) * 1000000 + t.tv_nsec / 1000;
  return static_cast<double>(us) / 1e6;
}

}  // namespace heartbeat::server
