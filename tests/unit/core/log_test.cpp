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

// Text from the network cannot start a line or move the cursor: control characters are escaped.
TEST(Log, ControlCharactersAreEscaped) {
  std::string s = "login for 'x\nFAKE\r\t\x1b[2K\x7f' ok";
  heartbeat::log::detail::escape_controls(s);
  EXPECT_EQ(s, "login for 'x\\nFAKE\\r\\t\\x1b[2K\\x7f' ok");
  std::string plain = "nothing to do: caf\xc3\xa9";
  heartbeat::log::detail::escape_controls(plain);
  EXPECT_EQ(plain, "nothing to do: caf\xc3\xa9");
}
