// The scheduler: first runs spread over the interval, absolute deadlines, at most max_in_flight
// runs at once (the rest wait in deadline order), no overlapping runs of one check.
#include "heartbeat/checks/scheduler.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

using heartbeat::checks::scheduler;
using heartbeat::checks::spread_offset;

TEST(ChecksScheduler, SpreadIsStableAndWithinTheInterval) {
  std::vector<int> bins(10, 0);
  for (int i = 0; i < 10000; ++i) {
    double o = spread_offset("check-" + std::to_string(i), 60);
    ASSERT_GE(o, 0);
    ASSERT_LT(o, 60);
    ++bins[static_cast<int>(o / 6)];
  }
  for (int b : bins) EXPECT_GT(b, 800);  // about 1000 per sixth of a minute: no herd
  EXPECT_EQ(spread_offset("a", 60), spread_offset("a", 60));
}

TEST(ChecksScheduler, BoundedInFlightAndNoOverlap) {
  asio::io_context io;
  std::vector<std::string> started;
  std::map<std::string, int> runs;
  scheduler* sp = nullptr;
  scheduler s(io.get_executor(), 2, [&](const std::string& n) {
    started.push_back(n);
    ++runs[n];
    // Each run takes 150 ms.
    auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(150));
    t->async_wait([t, n, &sp](const asio::error_code&) { sp->finished(n); });
  });
  sp = &s;
  const double now = heartbeat::clock::mono_now();
  for (const char* n : {"a", "b", "c", "d", "e"}) s.add(n, 0.1, now);  // all due at once, every 100 ms
  io.run_for(std::chrono::milliseconds(60));
  EXPECT_EQ(started.size(), 2u);  // two slots
  EXPECT_EQ(s.counters().in_flight, 2u);
  EXPECT_EQ(s.counters().waiting, 3u);
  io.run_for(std::chrono::milliseconds(700));
  s.stop();
  // Every check ran, none twice at once (each run is longer than the interval: deadlines skipped).
  for (const char* n : {"a", "b", "c", "d", "e"}) EXPECT_GE(runs[n], 1) << n;
  EXPECT_GT(s.counters().skipped, 0u);
  EXPECT_LE(s.counters().in_flight, 2u);
  EXPECT_GT(s.start_delay_quantile(0.99), 0.1);  // the waiting ones started late
}

TEST(ChecksScheduler, RunsAtAbsoluteDeadlinesAndRemoves) {
  asio::io_context io;
  std::vector<double> at;
  scheduler* sp = nullptr;
  scheduler s(io.get_executor(), 10, [&](const std::string& n) {
    at.push_back(heartbeat::clock::mono_now());
    asio::post(io, [n, &sp] { sp->finished(n); });
  });
  sp = &s;
  const double t0 = heartbeat::clock::mono_now();
  s.add("x", 0.05, t0 + 0.05);
  io.run_for(std::chrono::milliseconds(280));
  ASSERT_GE(at.size(), 4u);
  for (std::size_t i = 0; i < at.size(); ++i) EXPECT_NEAR(at[i] - t0, 0.05 * (i + 1), 0.03);
  EXPECT_LT(s.start_delay_quantile(0.99), 0.03);
  s.remove("x");
  std::size_t n = at.size();
  io.run_for(std::chrono::milliseconds(150));
  EXPECT_EQ(at.size(), n);
  EXPECT_FALSE(s.run_now("x"));
}
