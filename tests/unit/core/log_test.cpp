// Specification of core/log.hpp levels.
#include "heartbeat/core/log.hpp"

#include <gtest/gtest.h>

TEST(Log, LevelsFilter) {
  namespace log = heartbeat::log;
  log::set_level(log::level::warn);
  EXPECT_FALSE(log::enabled(log::level::info));
  EXPECT_TRUE(log::enabled(log::level::error));
  log::set_level(log::level::info);
  EXPECT_TRUE(log::enabled(log::level::info));
}
