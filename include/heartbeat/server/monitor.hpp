// The monitor: a coroutine on the io thread that wakes a few times a second
// and lets time act on host state (registry::tick: LATE, DOWN, command expiry)
// and on alerts (the alert engine's tick, wired by app.hpp through on_tick).
// It wakes on the steady clock and hands on both faces of the time
// (clock::instant): deadlines are judged on the monotonic one.
#pragma once

#include <chrono>
#include <functional>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/net/asio.hpp"
#include "heartbeat/server/host_registry.hpp"

namespace heartbeat::server {

class monitor {
 public:
  static constexpr auto period = std::chrono::milliseconds(250);

  monitor(asio::io_context& io, host_registry& reg) : io_(io), reg_(reg), timer_(io) {}

  // Extra work on every tick, after the registry's (e.g. alert reminders, missing data).
  std::function<void(clock::instant now)> on_tick;
  // Work done about once a second (e.g. saving hosts that changed to the store).
  std::function<void(clock::instant now)> every_second;

  void start() {
    running_ = true;
    net::spawn(io_, loop(), "monitor");
  }
  void stop() {
    running_ = false;
    timer_.cancel();
  }
  // One step (also used by tests to step time by hand).
  void step(clock::instant now) {
    reg_.tick(now);
    if (on_tick) on_tick(now);
    if (every_second && now.mono - last_second_ >= 1.0) {
      last_second_ = now.mono;
      every_second(now);
    }
  }

 private:
  asio::io_context& io_;
  host_registry& reg_;
  asio::steady_timer timer_;
  bool running_ = false;
  double last_second_ = -1e300;  // monotonic

  net::awaitable<void> loop() {
    auto next = std::chrono::steady_clock::now();
    while (running_) {
      next += period;
      timer_.expires_at(next);
      auto [ec] = co_await timer_.async_wait(net::as_tuple_awaitable);
      if (!running_) co_return;
      step(clock::now());
      (void)ec;
    }
  }
};

}  // namespace heartbeat::server
