// Every public notify header compiles on its own (included first in its own test
// files too); this file checks the umbrella of them together.
#include "heartbeat/notify/service.hpp"

#include <gtest/gtest.h>

TEST(NotifyHeaders, SchemaListsEveryType) {
  using namespace heartbeat::notify;
  for (auto slug : {"email", "pushover", "mattermost", "signal", "webhook"})
    EXPECT_NE(find_schema(slug), nullptr) << slug;
  EXPECT_EQ(find_schema("sms"), nullptr);
}
