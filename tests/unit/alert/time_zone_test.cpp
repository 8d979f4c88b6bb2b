// alert::time_zone: local time to Unix time and back across Europe/Berlin's 2027 changes.
#include "heartbeat/alert/tz_database.hpp"
#include "heartbeat/alert/time_zone.hpp"

#include <gtest/gtest.h>

using heartbeat::alert::time_zone;

TEST(time_zone, utc_is_the_default) {
  time_zone z;
  EXPECT_TRUE(z.is_utc());
  EXPECT_EQ(z.from_local(2027, 1, 1, 0, 0), 1798761600.0);
  auto f = z.to_local(1798761600.0 + 3661);
  EXPECT_EQ(f.hour, 1);
  EXPECT_EQ(f.minute, 1);
  EXPECT_EQ(f.second, 1);
  EXPECT_EQ(f.weekday, 5);  // 2027-01-01 is a Friday
}

TEST(time_zone, spring_forward_gap_maps_to_the_jump) {
  auto z = time_zone::locate("Europe/Berlin");
  ASSERT_TRUE(z);
  // 2027-03-28: 02:00 CET becomes 03:00 CEST at 01:00 UTC; 02:30 does not exist.
  EXPECT_EQ(z->from_local(2027, 3, 28, 2, 30), 1806195600.0);
  EXPECT_EQ(z->from_local(2027, 3, 28, 1, 59), 1806195600.0 - 60);
  EXPECT_EQ(z->from_local(2027, 3, 28, 3, 0), 1806195600.0);
  EXPECT_EQ(z->utc_offset(1806195600.0 - 1), 3600);
  EXPECT_EQ(z->utc_offset(1806195600.0), 7200);
}

TEST(time_zone, fall_back_hour_maps_to_its_first_occurrence) {
  auto z = time_zone::locate("Europe/Berlin");
  ASSERT_TRUE(z);
  // 2027-10-31: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:30 happens twice.
  const double first = z->from_local(2027, 10, 31, 2, 30);
  EXPECT_EQ(first, 1824942600.0);  // 00:30 UTC
  auto a = z->to_local(first);
  auto b = z->to_local(first + 3600);  // the second 02:30
  EXPECT_EQ(a.hour, 2);
  EXPECT_EQ(b.hour, 2);
  EXPECT_EQ(a.minute, 30);
  EXPECT_EQ(b.minute, 30);
}

TEST(time_zone, unknown_names_are_an_error) {
  auto z = time_zone::locate("Mars/Olympus_Mons");
  ASSERT_FALSE(z);
  EXPECT_NE(z.err().message.find("unknown time zone"), std::string::npos);
}
