// Specification of core/spsc_queue.hpp: bounded, ordered, wakes its consumer.
#include "heartbeat/core/spsc_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

TEST(SpscQueue, RefusesWhenFullAndKeepsOrder) {
  heartbeat::spsc_queue<std::string> q(3);
  EXPECT_TRUE(q.push("a"));
  EXPECT_TRUE(q.push("b"));
  EXPECT_TRUE(q.push("c"));
  std::string d = "d";
  EXPECT_FALSE(q.push(std::move(d)));
  EXPECT_EQ(d, "d");
  EXPECT_EQ(*q.pop(), "a");
  EXPECT_EQ(*q.pop(), "b");
  EXPECT_EQ(*q.pop(), "c");
  EXPECT_FALSE(q.pop());
}

TEST(SpscQueue, DeliversEverythingAcrossThreads) {
  heartbeat::spsc_queue<int> q(64);
  constexpr int n = 200000;
  long long sum = 0;
  std::thread consumer([&] {
    int got = 0;
    while (got < n) {
      q.wait(std::chrono::milliseconds(50));
      while (auto v = q.pop()) {
        sum += *v;
        ++got;
      }
    }
  });
  for (int i = 1; i <= n; ++i) {
    int v = i;
    while (!q.push(std::move(v))) std::this_thread::yield();
  }
  consumer.join();
  EXPECT_EQ(sum, static_cast<long long>(n) * (n + 1) / 2);
}

TEST(SpscQueue, ANapIgnoresSinglePushesButEndsWhenAQuarterFullOrWoken) {
  using namespace std::chrono;
  heartbeat::spsc_queue<int> q(64);
  auto nap = [&](auto&& during) {
    auto t0 = steady_clock::now();
    std::thread producer(during);
    q.nap(milliseconds(300));
    producer.join();
    return steady_clock::now() - t0;
  };
  // One item: the producer pays no wake-up, the nap runs its course.
  EXPECT_GE(nap([&] {
              std::this_thread::sleep_for(milliseconds(20));
              q.push(1);
            }),
            milliseconds(290));
  while (q.pop()) {
  }
  // A quarter of the capacity ends it early.
  EXPECT_LT(nap([&] {
              std::this_thread::sleep_for(milliseconds(20));
              for (std::size_t i = 0; i < q.capacity() / 2; ++i) q.push(static_cast<int>(i));
            }),
            milliseconds(250));
  while (q.pop()) {
  }
  // So does wake() (stop, flush).
  EXPECT_LT(nap([&] {
              std::this_thread::sleep_for(milliseconds(20));
              q.wake();
            }),
            milliseconds(250));
}
