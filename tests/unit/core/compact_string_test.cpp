// compact_string: one pointer while empty, a string once set; reads like std::string_view.
#include "heartbeat/core/compact_string.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

using heartbeat::compact_string;

TEST(CompactString, CostsOnePointerAndReadsLikeAString) {
  static_assert(sizeof(compact_string) == sizeof(void*));
  compact_string s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.str(), "");
  s = std::string("cpu_percent 95.0 > 90.0");
  EXPECT_EQ(s, "cpu_percent 95.0 > 90.0");
  EXPECT_EQ(s.size(), 23u);
  compact_string copy = s;
  s.assign("other");
  EXPECT_EQ(copy.view(), "cpu_percent 95.0 > 90.0");  // a copy, not a share
  EXPECT_EQ(std::string_view(s), "other");
  compact_string moved = std::move(copy);
  EXPECT_EQ(moved.str(), "cpu_percent 95.0 > 90.0");
  s = "";
  EXPECT_TRUE(s.empty());
  moved.clear();
  EXPECT_TRUE(moved.empty());
}
