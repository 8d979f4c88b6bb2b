// Duty rotas: turns, whole-day shifts across a DST change, shorter shifts, the turn before the
// start, overrides, and who comes next when.
#include "heartbeat/checks/rota.hpp"

#include <gtest/gtest.h>

using heartbeat::checks::rota;
using heartbeat::checks::rota_override;
using heartbeat::json::value;

namespace {

rota weekly(const char* start, const char* tz = "Europe/Berlin") {
  rota r;
  r.name = "ops";
  r.users = {"alice", "bob", "carol"};
  r.shift = 7 * 86400;
  r.tz = *heartbeat::alert::time_zone::locate(tz);
  r.start = *heartbeat::checks::parse_local_time(value(start), r.tz);
  r.start_local = r.tz.to_local(r.start);
  return r;
}

}  // namespace

TEST(Rota, TakesTurnsFromTheStart) {
  rota r = weekly("2026-12-07T09:00:00");
  EXPECT_EQ(r.start, 1796630400);  // 08:00 UTC (CET)
  EXPECT_EQ(r.on_duty(r.start), "alice");
  EXPECT_EQ(r.on_duty(r.start + 7 * 86400 - 1), "alice");
  EXPECT_EQ(r.on_duty(r.start + 7 * 86400), "bob");
  EXPECT_EQ(r.on_duty(r.start + 14 * 86400), "carol");
  EXPECT_EQ(r.on_duty(r.start + 21 * 86400), "alice");
  // Before the start the turn runs backwards.
  EXPECT_EQ(r.on_duty(r.start - 1), "carol");
  EXPECT_EQ(r.on_duty(r.start - 7 * 86400 - 1), "bob");
  auto n = r.next_change(r.start - 10);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->first, "alice");
  EXPECT_EQ(n->second, r.start);
}

TEST(Rota, WholeDayShiftsKeepTheLocalHourAcrossDst) {
  // Europe/Berlin moves to CEST on 2027-03-28: the handover stays at 09:00 local, 7 days less an hour later.
  rota r = weekly("2027-03-22T09:00:00");
  const double next = r.shift_start(1);
  EXPECT_EQ(next - r.start, 7 * 86400 - 3600);
  auto f = r.tz.to_local(next);
  EXPECT_EQ(f.hour, 9);
  EXPECT_EQ(f.day, 29);
  EXPECT_EQ(r.on_duty(next - 1), "alice");
  EXPECT_EQ(r.on_duty(next), "bob");
}

TEST(Rota, ShortShiftsAreElapsedTime) {
  rota r = weekly("2026-12-07T09:00:00", "UTC");
  r.shift = 8 * 3600;
  EXPECT_EQ(r.on_duty(r.start + 8 * 3600), "bob");
  EXPECT_EQ(r.on_duty(r.start + 16 * 3600), "carol");
  auto n = r.next_change(r.start + 1);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->first, "bob");
  EXPECT_EQ(n->second, r.start + 8 * 3600);
}

TEST(Rota, OverridesPutSomeoneElseOnDuty) {
  rota r = weekly("2026-12-07T09:00:00");
  const double from = *heartbeat::checks::parse_local_time(value("2026-12-24T00:00:00"), r.tz);
  const double to = *heartbeat::checks::parse_local_time(value("2026-12-27T00:00:00"), r.tz);
  r.overrides.push_back(rota_override{"dave", from, to});
  EXPECT_EQ(r.on_duty(from - 1), "carol");  // third week: 2026-12-21 .. 2026-12-28
  EXPECT_EQ(r.on_duty(from), "dave");
  EXPECT_EQ(r.on_duty(to - 1), "dave");
  EXPECT_EQ(r.on_duty(to), "carol");
  auto n = r.next_change(from - 10);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->first, "dave");
  EXPECT_EQ(n->second, from);
  n = r.next_change(from + 10);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->first, "carol");
  EXPECT_EQ(n->second, to);
}

TEST(Rota, LocalTimes) {
  auto utc = *heartbeat::alert::time_zone::locate("UTC");
  EXPECT_EQ(heartbeat::checks::parse_local_time(value("1970-01-02T00:00"), utc), 86400);
  EXPECT_EQ(heartbeat::checks::parse_local_time(value("1970-01-02 00:00:01"), utc), 86401);
  EXPECT_EQ(heartbeat::checks::parse_local_time(value(42), utc), 42);
  EXPECT_FALSE(heartbeat::checks::parse_local_time(value("2026-02-30T00:00:00"), utc));
  EXPECT_FALSE(heartbeat::checks::parse_local_time(value("tomorrow"), utc));
  EXPECT_FALSE(heartbeat::checks::parse_local_time(value("2026-12-07T09:00:00Z junk"), utc));
}
