// Rates (disk I/O, network, CPU) come from two samples at least one second apart: a collect that
// comes sooner after the previous sample (the first one, right after initialize()) waits out the
// rest, so that the first data after start-up holds real rates instead of counters divided by a
// few milliseconds. hbc's io thread.
#pragma once

#include <chrono>

#include "heartbeat/net/asio.hpp"

namespace heartbeat::client::detail {

inline constexpr std::chrono::seconds min_rate_gap{1};

// Waits until `min_rate_gap` after `previous` (the time of the previous sample).
inline net::awaitable<void> wait_rate_gap(std::chrono::steady_clock::time_point previous) {
  auto due = previous + min_rate_gap;
  auto now = std::chrono::steady_clock::now();
  if (now < due) co_await net::sleep_for(due - now);
}

}  // namespace heartbeat::client::detail
