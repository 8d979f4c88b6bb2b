// Quiet hours in a user's IANA time zone (or the server's `timezone`) follow daylight-saving
// changes; a fixed utc_offset keeps its old meaning. Stepped across Europe/Berlin's 2027 changes.
#include <gmock/gmock.h>

#include "heartbeat/config/yaml.hpp"
#include "heartbeat/notify/settings.hpp"

using namespace heartbeat;
using namespace heartbeat::notify;
using ::testing::ElementsAre;

namespace {

constexpr double spring_utc_0100 = 1806195600;  // 2027-03-28 01:00 UTC: 02:00 CET -> 03:00 CEST
constexpr double fall_utc_0100 = 1824944400;    // 2027-10-31 01:00 UTC: 03:00 CEST -> 02:00 CET

settings load(const std::string& yaml, std::vector<std::string>* diags = nullptr) {
  config::diagnostics d;
  auto s = load_config(*config::parse_yaml(yaml), d);
  if (diags)
    for (const auto& i : d.items) diags->push_back(i.text());
  return s;
}

}  // namespace

TEST(NotifyQuietHours, FollowTheUsersZoneAcrossDst) {
  auto s = load(R"(
timezone: Europe/Berlin
users:
  zoned: {quiet_hours: {start: "22:00", end: "07:00", timezone: Europe/Berlin}}
  server: {quiet_hours: {start: "22:00", end: "07:00"}}
  fixed: {quiet_hours: {start: "22:00", end: "07:00", utc_offset: 1}}
)");
  const auto& zoned = s.find_user("zoned")->quiet;
  const auto& server = s.find_user("server")->quiet;
  const auto& fixed = s.find_user("fixed")->quiet;
  // The morning after the spring change: 05:30 UTC is 07:30 CEST (quiet hours over) but 06:30
  // at a fixed +1.
  const double morning = spring_utc_0100 + 4.5 * 3600;
  EXPECT_FALSE(zoned.covers(morning));
  EXPECT_FALSE(server.covers(morning));
  EXPECT_TRUE(fixed.covers(morning));
  // The evening before: 20:59 UTC is 21:59 CET, 21:00 UTC is 22:00 CET.
  EXPECT_FALSE(zoned.covers(spring_utc_0100 - 4 * 3600 - 60));
  EXPECT_TRUE(zoned.covers(spring_utc_0100 - 4 * 3600));
  // Autumn: the evening before the change 20:00 UTC is 22:00 CEST; the morning after 06:00 UTC
  // is 07:00 CET.
  EXPECT_FALSE(zoned.covers(fall_utc_0100 - 5 * 3600 - 60));
  EXPECT_TRUE(zoned.covers(fall_utc_0100 - 5 * 3600));
  EXPECT_TRUE(zoned.covers(fall_utc_0100 + 5 * 3600 - 60));
  EXPECT_FALSE(zoned.covers(fall_utc_0100 + 5 * 3600));
}

TEST(NotifyQuietHours, Diagnostics) {
  std::vector<std::string> d;
  load(R"(
users:
  a: {quiet_hours: {start: "22:00", end: "07:00", timezone: Europe/Nowhere}}
  b: {quiet_hours: {start: "22:00", end: "07:00", timezone: UTC, utc_offset: 2}}
)",
       &d);
  EXPECT_THAT(d,
              ElementsAre("users.a.quiet_hours.timezone: unknown time zone \"Europe/Nowhere\" (an IANA name, "
                          "e.g. Europe/Berlin)",
                          "users.b.quiet_hours.utc_offset: give either timezone or utc_offset, not both"));
}
