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
