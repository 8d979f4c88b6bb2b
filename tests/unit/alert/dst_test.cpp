// Maintenance windows in local time across both 2027 daylight-saving changes of
// Europe/Berlin (spring forward 2027-03-28 02:00 CET -> 03:00 CEST at 01:00 UTC, fall back
// 2027-10-31 03:00 CEST -> 02:00 CET at 01:00 UTC), with stepped time.
#include "heartbeat/alert/tz_database.hpp"
#include "heartbeat/alert/engine.hpp"

#include <gmock/gmock.h>

#include "table.hpp"

using namespace hb_alert_test;
using heartbeat::alert::engine;
using heartbeat::alert::maintenance_window;

namespace {

constexpr double H = 3600;
constexpr double spring_utc_0100 = 1806195600;  // 2027-03-28 01:00 UTC: the clocks jump
constexpr double fall_utc_0100 = 1824944400;    // 2027-10-31 01:00 UTC: the clocks go back

// Steps a window through `times`, expecting active (1) or not (0) at each.
void expect_steps(const maintenance_window& w, const std::vector<std::pair<double, int>>& steps) {
  for (const auto& [t, want] : steps) {
    double change = 0;
    EXPECT_EQ(w.active_at(t, change), want == 1) << w.name << " at " << static_cast<long long>(t);
  }
}

}  // namespace

// Sunday 02:00 for 1 h in Berlin: 01:00-02:00 UTC in winter; on the spring-forward day 02:00 does
// not exist and the window starts when the clocks jump (03:00 CEST = 01:00 UTC); in summer
// 00:00-01:00 UTC.
TEST(AlertDst, WeeklyWindowOnTheSpringForwardDay) {
  auto rs = compile(R"(
timezone: Europe/Berlin
maintenance:
  - {name: sunday-night, days: [sun], at: "02:00", duration: 1h}
)");
  ASSERT_EQ(rs.maintenance.size(), 1u);
  const auto& w = rs.maintenance[0];
  EXPECT_EQ(w.tz.name(), "Europe/Berlin");
  const double week = 7 * 86400;
  expect_steps(w, {
                      {spring_utc_0100 - week - 1, 0},      // 2027-03-21 01:59:59 CET
                      {spring_utc_0100 - week, 1},          // 02:00 CET
                      {spring_utc_0100 - week + H - 1, 1},  // 02:59:59 CET
                      {spring_utc_0100 - week + H, 0},
                      {spring_utc_0100 - 1, 0},      // 01:59:59 CET, just before the jump
                      {spring_utc_0100, 1},          // 03:00 CEST: the skipped 02:00 begins now
                      {spring_utc_0100 + H - 1, 1},  // 03:59:59 CEST
                      {spring_utc_0100 + H, 0},
                      {spring_utc_0100 + week - H - 1, 0},  // 2027-04-04 01:59:59 CEST
                      {spring_utc_0100 + week - H, 1},      // 02:00 CEST = 00:00 UTC
                      {spring_utc_0100 + week, 0},
                  });
  // The next start as the engine schedules it, across the change.
  double change = 0;
  EXPECT_FALSE(w.active_at(spring_utc_0100 - 2 * 86400, change));
  EXPECT_EQ(change, spring_utc_0100);
  EXPECT_TRUE(w.active_at(spring_utc_0100 + 60, change));
  EXPECT_EQ(change, spring_utc_0100 + H);
  EXPECT_FALSE(w.active_at(spring_utc_0100 + H, change));
  EXPECT_EQ(change, spring_utc_0100 + week - H);
}

// A window across the fall-back hour: Sunday 01:30 CEST for 2 h lasts two hours of elapsed
// time (23:30-01:30 UTC), ending at 02:30 CET; and one starting at 02:30, which happens
// twice that night, starts at its first occurrence only.
TEST(AlertDst, WindowsAcrossTheFallBackHour) {
  auto rs = compile(R"(
maintenance:
  - {name: across, days: [sun], at: "01:30", duration: 2h, timezone: Europe/Berlin}
  - {name: twice, cron: "30 2 31 10 *", duration: 30m, timezone: Europe/Berlin}
)");
  ASSERT_EQ(rs.maintenance.size(), 2u);
  const auto& across = rs.maintenance[0];
  const auto& twice = rs.maintenance[1];
  const double start = fall_utc_0100 - 1.5 * H;  // 2027-10-30 23:30 UTC = 01:30 CEST
  expect_steps(across, {
                           {start - 1, 0},
                           {start, 1},
                           {fall_utc_0100 - 1, 1},            // 02:59:59 CEST
                           {fall_utc_0100, 1},                // 02:00 CET (the hour again)
                           {fall_utc_0100 + 0.5 * H - 1, 1},  // 02:29:59 CET
                           {fall_utc_0100 + 0.5 * H, 0},      // 02:30 CET: two hours have passed
                       });
  const double first_0230 = fall_utc_0100 - 0.5 * H;  // 00:30 UTC = 02:30 CEST
  expect_steps(twice, {
                          {first_0230 - 1, 0},
                          {first_0230, 1},
                          {first_0230 + 0.5 * H - 1, 1},
                          {first_0230 + 0.5 * H, 0},
                          {first_0230 + H, 0},  // 02:30 CET, the second time: no second start
                          {first_0230 + H + 60, 0},
                      });
  // A week later, winter time: Sunday 01:30 CET = 00:30 UTC.
  expect_steps(across,
               {{fall_utc_0100 + 7 * 86400 - 0.5 * H - 1, 0}, {fall_utc_0100 + 7 * 86400 - 0.5 * H, 1}});
}

// Daily cron at 02:00 local: the UTC start moves by an hour across the spring change.
TEST(AlertDst, DailyCronFollowsTheChange) {
  auto rs = compile(R"(
timezone: Europe/Berlin
maintenance: [{name: daily, cron: "0 2 * * *", duration: 10m}]
)");
  const auto& w = rs.maintenance[0];
  double change = 0;
  EXPECT_FALSE(w.active_at(spring_utc_0100 - 86400 - 60, change));  // Saturday 01:59 CET
  EXPECT_EQ(change, spring_utc_0100 - 86400);                       // 01:00 UTC
  EXPECT_FALSE(w.active_at(spring_utc_0100 - 60, change));
  EXPECT_EQ(change, spring_utc_0100);  // the jump
  EXPECT_FALSE(w.active_at(spring_utc_0100 + H, change));
  EXPECT_EQ(change, spring_utc_0100 + 86400 - H);            // Monday 02:00 CEST = 00:00 UTC
  EXPECT_FALSE(w.active_at(fall_utc_0100 - 3 * H, change));  // Saturday night, summer time
  EXPECT_EQ(change, fall_utc_0100 - H);                      // Sunday 02:00 CEST (first) = 00:00 UTC
  EXPECT_FALSE(w.active_at(fall_utc_0100 - H + 600, change));
  EXPECT_EQ(change, fall_utc_0100 + 86400);  // Monday 02:00 CET = 01:00 UTC (no second start Sunday)
}

// One-off windows: a time without Z is local time of the window's zone; with Z it is UTC.
TEST(AlertDst, OneOffLocalTimes) {
  auto rs = compile(R"(
timezone: Europe/Berlin
maintenance:
  - {name: local, start: "2027-03-28T01:30", end: "2027-03-28T03:30"}
  - {name: utc, start: "2027-03-28T00:30:00Z", end: "2027-03-28T01:30:00Z"}
)");
  EXPECT_EQ(rs.maintenance[0].start, spring_utc_0100 - 0.5 * H);  // 01:30 CET
  EXPECT_EQ(rs.maintenance[0].end, spring_utc_0100 + 0.5 * H);    // 03:30 CEST
  EXPECT_EQ(rs.maintenance[1].start, spring_utc_0100 - 0.5 * H);
  EXPECT_EQ(rs.maintenance[1].end, spring_utc_0100 + 0.5 * H);
}

// The engine with stepped time: an alert raised inside the spring-forward window is silent and
// sent when the window (03:00-04:00 CEST) ends.
TEST(AlertDst, EngineSuppressesInsideTheShiftedWindow) {
  engine e(compile(R"(
timezone: Europe/Berlin
thresholds: {p: {x: {warning: 80}}}
maintenance: [{name: sunday-night, days: [sun], at: "02:00", duration: 1h}]
)"));
  run_table(e, "h", "p.x",
            {{spring_utc_0100 - 600, 10, {}},
             {spring_utc_0100 - 300, 10, {}},
             {spring_utc_0100 + 60, 90, {"silent: WARNING: h - p.x = 90.0"}},
             {spring_utc_0100 + H - 1, 91, {}},
             {spring_utc_0100 + H, std::nullopt, {"notify: WARNING: h - p.x = 91.0"}}});
  EXPECT_EQ(e.find("h", "p.x")->reason, "maintenance sunday-night ended: OK was last sent, now WARNING");
}
