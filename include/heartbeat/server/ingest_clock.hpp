// The wall clock hbd uses for protocol times (`ts`, `server_ts`, last_seen):
// Unix seconds as a double. Any thread.
#pragma once

#include <time.h>

namespace heartbeat::server {

inline double wall_now() noexcept {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

}  // namespace heartbeat::server
