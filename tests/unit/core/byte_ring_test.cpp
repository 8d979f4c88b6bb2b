// Specification of core/byte_ring.hpp: variable-size records, bounded, ordered,
// contiguous across the wrap, and safe between one producer and one consumer.
#include "heartbeat/core/byte_ring.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <thread>

namespace {

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }
std::string text(std::span<const std::byte> r) { return {reinterpret_cast<const char*>(r.data()), r.size()}; }

}  // namespace

TEST(ByteRing, KeepsOrderAndRefusesWhenFull) {
  heartbeat::byte_ring r(4096);
  EXPECT_EQ(r.capacity(), 4096u);
  std::string rec(1000, 'x');
  int pushed = 0;
  while (r.push(bytes(rec + std::to_string(pushed)))) ++pushed;
  EXPECT_EQ(pushed, 4);  // 4 x (8 + 1001 -> 1016) bytes; a fifth does not fit
  std::span<const std::byte> got;
  for (int i = 0; i < pushed; ++i) {
    ASSERT_TRUE(r.front(got));
    EXPECT_EQ(text(got), rec + std::to_string(i));
    r.pop();
  }
  EXPECT_FALSE(r.front(got));
  EXPECT_EQ(r.used(), 0u);
}

TEST(ByteRing, RecordsStayContiguousAcrossTheWrap) {
  heartbeat::byte_ring r(4096);
  std::span<const std::byte> got;
  for (int i = 0; i < 1000; ++i) {
    std::string rec(static_cast<std::size_t>(100 + (i * 37) % 900), static_cast<char>('a' + i % 26));
    ASSERT_TRUE(r.push(bytes(rec))) << i;
    ASSERT_TRUE(r.front(got));
    EXPECT_EQ(text(got), rec);
    r.pop();
  }
  EXPECT_TRUE(r.push({}));  // an empty record is a record
  ASSERT_TRUE(r.front(got));
  EXPECT_TRUE(got.empty());
  r.pop();
  EXPECT_FALSE(r.front(got));
}

TEST(ByteRing, RefusesARecordLargerThanHalfTheRing) {
  heartbeat::byte_ring r(4096);
  EXPECT_FALSE(r.push(bytes(std::string(3000, 'x'))));
  EXPECT_TRUE(r.push(bytes(std::string(2000, 'x'))));
}

TEST(ByteRing, DeliversEverythingAcrossThreads) {
  heartbeat::byte_ring r(8192);
  constexpr int n = 200000;
  long long sum = 0;
  std::thread consumer([&] {
    int got = 0;
    std::span<const std::byte> rec;
    while (got < n) {
      if (!r.front(rec)) {
        r.wait(std::chrono::milliseconds(50));
        continue;
      }
      sum += std::stoi(text(rec));
      r.pop();
      ++got;
    }
  });
  long long want = 0;
  for (int i = 0; i < n; ++i) {
    std::string rec = std::to_string(i) + std::string(static_cast<std::size_t>(i % 50), ' ');
    while (!r.push(bytes(rec))) std::this_thread::yield();
    want += i;
  }
  consumer.join();
  EXPECT_EQ(sum, want);
}
