// compact_vector: one pointer while empty, a vector once filled; reads like const std::vector&.
#include "heartbeat/core/compact_vector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

using heartbeat::compact_vector;

namespace {
std::size_t count_of(const std::vector<std::string>& v) { return v.size(); }
}  // namespace

TEST(CompactVector, CostsOnePointerAndReadsLikeAVector) {
  static_assert(sizeof(compact_vector<std::string>) == sizeof(void*));
  compact_vector<std::string> v;
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.begin(), v.end());
  for (auto& s : v) s.clear();  // an empty range, mutable too
  EXPECT_EQ(count_of(v), 0u);
  v = std::vector<std::string>{"alice", "bob"};
  EXPECT_EQ(v.size(), 2u);
  EXPECT_EQ(count_of(v), 2u);
  EXPECT_TRUE(v == std::vector<std::string>({"alice", "bob"}));
  compact_vector<std::string> copy = v;
  v.push_back("carol");
  EXPECT_EQ(copy.size(), 2u);  // a copy, not a share
  EXPECT_EQ(v.back(), "carol");
  EXPECT_EQ(std::count(v.begin(), v.end(), "bob"), 1);
  v = std::vector<std::string>{};
  EXPECT_TRUE(v.empty());
  compact_vector<std::string> moved = std::move(copy);
  EXPECT_EQ(moved.front(), "alice");
  moved.emplace_back("dave");
  moved.edit().erase(moved.edit().begin());
  EXPECT_EQ(moved[0], "bob");
  moved.clear();
  EXPECT_TRUE(moved.empty());
}
