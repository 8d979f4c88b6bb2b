// flat_map: a sorted vector of pairs with map-like lookup by any comparable key.
#include "heartbeat/core/flat_map.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using heartbeat::flat_map;

TEST(FlatMap, KeepsKeysInOrderFindsByViewAndHoldsNoSpareCapacity) {
  flat_map<std::string, int> m;
  EXPECT_TRUE(m.empty());
  for (std::string_view k : {"mem", "cpu", "net", "disk"}) EXPECT_TRUE(m.emplace(std::string(k), 1).second);
  auto [it, fresh] = m.emplace(std::string("cpu"), 7);
  EXPECT_FALSE(fresh) << "a present key is not replaced";
  EXPECT_EQ(it->second, 1);
  std::vector<std::string> order;
  for (const auto& [k, v] : m) order.push_back(k);
  EXPECT_EQ(order, (std::vector<std::string>{"cpu", "disk", "mem", "net"}));
  EXPECT_NE(m.find(std::string_view("disk")), m.end());
  EXPECT_EQ(m.find(std::string_view("load")), m.end());
  EXPECT_TRUE(m.contains("net"));
  EXPECT_EQ(m.at("mem"), 1);
  EXPECT_THROW((void)m.at("load"), std::out_of_range);
  m.erase(m.find(std::string_view("disk")));
  EXPECT_EQ(m.size(), 3u);
  EXPECT_FALSE(m.contains("disk"));
}
