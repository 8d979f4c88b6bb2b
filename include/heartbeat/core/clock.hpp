// The project's one clock, with two faces: wall time (Unix seconds) for what is
// sent, shown and stored, and monotonic time for every deadline and duration, so
// that a step of the system clock moves no deadline. Dependency-free; any thread.
#pragma once

#include <time.h>

namespace heartbeat::clock {

namespace detail {
inline double read_us(clockid_t id) noexcept {
  timespec t{};
  ::clock_gettime(id, &t);
  // Whole microseconds, so json::write_number writes the value with integer arithmetic.
  const long long us = static_cast<long long>(t.tv_sec) * 1000000 + t.tv_nsec / 1000;
  return static_cast<double>(us) / 1e6;
}
}  // namespace detail

// Unix time in seconds (CLOCK_REALTIME): protocol `ts`/`server_ts`, last_seen, display.
inline double wall_now() noexcept { return detail::read_us(CLOCK_REALTIME); }

// Seconds since an arbitrary start (CLOCK_MONOTONIC): deadlines, timeouts, rate windows.
inline double mono_now() noexcept { return detail::read_us(CLOCK_MONOTONIC); }

// Both faces read together: `wall` stamps what is shown and stored, `mono` measures every
// deadline and duration. A plain number converts to an instant whose faces agree, so code that
// steps time by hand (tests, benchmarks) passes one number as before.
struct instant {
  double wall = 0;
  double mono = 0;
  constexpr instant() noexcept = default;
  constexpr instant(double t) noexcept : wall(t), mono(t) {}  // NOLINT: implicit on purpose
  constexpr instant(double w, double m) noexcept : wall(w), mono(m) {}
  // A wall time of the past (e.g. restored from disk) on this instant's monotonic scale.
  constexpr double mono_of(double wall_time) const noexcept { return mono - (wall - wall_time); }
};

inline instant now() noexcept { return {wall_now(), mono_now()}; }

}  // namespace heartbeat::clock
