// Time-stepped tables for the alerting policy of docs/ALERTING.md: N-of-M `for` and
// `recover_after`, reminders that back off, and the diagnostics of their keys.
#include "heartbeat/alert/tz_database.hpp"
#include "heartbeat/alert/engine.hpp"

#include <gmock/gmock.h>

#include "table.hpp"

using namespace hb_alert_test;
using heartbeat::alert::engine;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// `for: {samples: 3, of: 5}` raises on the third bad sample among the last five, even
// with good ones in between; `recover_after: {samples: 4, of: 5}` recovers on the fourth
// good sample among the last five.
TEST(AlertPolicy, NOfMOnBothEdges) {
  engine e(compile(R"(
thresholds:
  p:
    x: {warning: 80, for: {samples: 3, of: 5}, recover_after: {samples: 4, of: 5}}
)"));
  run_table(e, "h", "p.x",
            {{0, 90, {}},                                   // bad 1 of 1
             {1, 10, {}},                                   // good: consecutive counting would restart here
             {2, 90, {}},                                   // bad 2 of 3
             {3, 10, {}},                                   // bad 2 of 4
             {4, 91, {"notify: WARNING: h - p.x = 91.0"}},  // bad 3 of 5
             {5, 10, {}},  // good 1 of 1 (the window starts afresh at the change)
             {6, 90, {}},  // good 1 of 2: consecutive counting would restart here
             {7, 10, {}},  // good 2 of 3
             {8, 10, {}},  // good 3 of 4
             {9, 10, {"notify: RECOVERED: h - p.x = 10.0 (WARNING -> OK)"}}});  // good 4 of 5
}

// Old samples drop out of the window: bad samples further apart than M never raise.
TEST(AlertPolicy, NOfMForgetsOldSamples) {
  engine e(compile("thresholds: {p: {x: {warning: 80, critical: 90, for: {samples: 2, of: 3}}}}"));
  run_table(e, "h", "p.x",
            {{0, 85, {}},
             {1, 10, {}},
             {2, 10, {}},
             {3, 85, {}},  // the bad sample at t=0 is out of the last three
             {4, 10, {}},
             {5, 95, {"notify: CRITICAL: h - p.x = 95.0"}}});  // 2 of the last 3 asked to raise
}

// Seconds-based `for` and consecutive samples keep their meaning; the README's hysteresis
// example is untouched by windows.
TEST(AlertPolicy, SecondsAndConsecutiveStay) {
  engine e(compile(R"(
thresholds:
  cpu_monitor:
    cpu_percent: {critical: 90, hysteresis: 0.10, recover_after: {samples: 1, of: 1}}
  p:
    secs: {warning: 80, for: 60}
)"));
  run_table(e, "web01", "cpu_monitor.cpu_percent",
            {{0, 50, {}},
             {10, 91, {"notify: CRITICAL: web01 - cpu_monitor.cpu_percent = 91.0"}},
             {20, 85, {}},
             {30, 81.5, {}},
             {40, 79, {"notify: RECOVERED: web01 - cpu_monitor.cpu_percent = 79.0 (CRITICAL -> OK)"}},
             {50, 89, {}}});
  run_table(e, "h", "p.secs", {{0, 90, {}}, {59, 90, {}}, {60, 90, {"notify: WARNING: h - p.secs = 90.0"}}});
}

// threshold_renotify_backoff 2: each reminder waits twice as long as the last, up to
// threshold_renotify_max; a change of level starts again from the interval.
TEST(AlertPolicy, RemindersBackOff) {
  engine e(compile(R"(
threshold_renotify_interval: 100
threshold_renotify_backoff: 2
threshold_renotify_max: 350
thresholds: {p: {x: {warning: 80, critical: 90}}}
)"));
  std::vector<heartbeat::alert::transition> all;
  run_table(e, "h", "p.x",
            {{0, 85, {"notify: WARNING: h - p.x = 85.0"}},
             {99, std::nullopt, {}},
             {100, std::nullopt, {"notify: REMINDER (WARNING): h - p.x = 85.0 (ongoing for 100s)"}},
             {299, std::nullopt, {}},
             {300, std::nullopt, {"notify: REMINDER (WARNING): h - p.x = 85.0 (ongoing for 300s)"}},  // +200
             {649, std::nullopt, {}},
             {650, std::nullopt, {"notify: REMINDER (WARNING): h - p.x = 85.0 (ongoing for 650s)"}},  // +350
             {1000, std::nullopt, {"notify: REMINDER (WARNING): h - p.x = 85.0 (ongoing for 1000s)"}},  // cap
             {1010, 95, {"notify: CRITICAL: h - p.x = 95.0"}},
             {1110, std::nullopt, {"notify: REMINDER (CRITICAL): h - p.x = 95.0 (ongoing for 1110s)"}}},
            &all);
  EXPECT_EQ(all[2].reason, "reminder 2: WARNING ongoing, waited 200s (renotify backoff 2.0, at most 350s)");
  // The count survives a restart (export / restore).
  engine b(compile(R"(
threshold_renotify_interval: 100
threshold_renotify_backoff: 2
threshold_renotify_max: 350
thresholds: {p: {x: {warning: 80, critical: 90}}}
)"));
  ASSERT_TRUE(b.restore_state(e.export_state()).ok());
  EXPECT_EQ(b.find("h", "p.x")->reminders, 1u);
  run_table(b, "h", "p.x",
            {{1309, std::nullopt, {}},
             {1310, std::nullopt, {"notify: REMINDER (CRITICAL): h - p.x = 95.0 (ongoing for 1310s)"}}});
}

// The default (backoff 1) keeps reminders at a fixed interval, even beyond the default cap.
TEST(AlertPolicy, FixedRemindersByDefault) {
  engine e(compile(R"(
threshold_renotify_interval: 100000
thresholds: {p: {x: {warning: 80}}}
)"));
  run_table(e, "h", "p.x",
            {{0, 85, {"notify: WARNING: h - p.x = 85.0"}},
             {100000, std::nullopt, {"notify: REMINDER (WARNING): h - p.x = 85.0 (ongoing for 100000s)"}},
             {199999, std::nullopt, {}},
             {200000, std::nullopt, {"notify: REMINDER (WARNING): h - p.x = 85.0 (ongoing for 200000s)"}}});
}

// Acknowledgement stops backed-off reminders as well.
TEST(AlertPolicy, AcknowledgementStopsBackedOffReminders) {
  engine e(compile(R"(
threshold_renotify_interval: 10
threshold_renotify_backoff: 3
thresholds: {p: {x: {warning: 80}}}
)"));
  run_table(e, "h", "p.x",
            {{0, 85, {"notify: WARNING: h - p.x = 85.0"}},
             {10, std::nullopt, {"notify: REMINDER (WARNING): h - p.x = 85.0 (ongoing for 10s)"}}});
  ASSERT_TRUE(e.ack("h", "p.x", "alice", 15).ok());
  run_table(e, "h", "p.x", {{40, std::nullopt, {}}, {10000, std::nullopt, {}}});
}

TEST(AlertPolicy, Diagnostics) {
  EXPECT_THAT(diagnose("thresholds: {p: {x: {warning: 1, for: {samples: 3, of: 2}}}}"),
              ElementsAre("thresholds.p.x.for.of: must be a whole number from 3 to 32, not 2"));
  EXPECT_THAT(
      diagnose("thresholds: {p: {x: {warning: 1, recover_after: {samples: 0, of: 5}}}}"),
      ElementsAre("thresholds.p.x.recover_after.samples: must be a whole number from 1 to 32, not 0"));
  EXPECT_THAT(diagnose("thresholds: {p: {x: {warning: 1, for: {samples: 3}}}}"),
              ElementsAre("thresholds.p.x.for.of: is required (e.g. {samples: 3, of: 5})"));
  EXPECT_THAT(diagnose("thresholds: {p: {x: {warning: 1, for: {samples: 3, of: 40}}}}"),
              ElementsAre("thresholds.p.x.for.of: must be a whole number from 3 to 32, not 40"));
  EXPECT_THAT(diagnose("thresholds: {p: {x: {warning: 1, for: {samples: 2, of: 4, within: 9}}}}"),
              ElementsAre("thresholds.p.x.for.within: unknown key (ignored)"));
  EXPECT_THAT(diagnose("threshold_renotify_backoff: 0.5"),
              ElementsAre("threshold_renotify_backoff: must be a number from 1 to 1000 (2: each reminder "
                          "waits twice as long as the last), not 0.5"));
  EXPECT_THAT(diagnose("threshold_renotify_max: soon"),
              ElementsAre("threshold_renotify_max: must be a duration in seconds or like 12h, 1d (the "
                          "longest wait)"));
  EXPECT_THAT(diagnose("timezone: Mars/Olympus_Mons"),
              ElementsAre("timezone: unknown time zone \"Mars/Olympus_Mons\" (an IANA name, e.g. "
                          "Europe/Berlin)"));
  EXPECT_THAT(diagnose("maintenance: [{name: a, cron: \"0 2 * * *\", duration: 1h, timezone: 5}]"),
              ElementsAre("maintenance.0.timezone: must be an IANA time zone name like Europe/Berlin, not "
                          "number"));
  EXPECT_THAT(diagnose(R"(
timezone: Europe/Berlin
threshold_renotify_backoff: 2
threshold_renotify_max: 1d
thresholds: {p: {x: {warning: 1, for: {samples: 2, of: 4}, recover_after: "3 samples"}}}
maintenance: [{name: a, days: [sun], at: "02:00", duration: 1h, timezone: America/New_York}]
)"),
              IsEmpty());
  auto rs = compile("thresholds: {p: {x: {warning: 1, for: {samples: 2, of: 4}}}}");
  const auto& r = rs.defaults->plugin("p")->by_path.at("x");
  EXPECT_EQ(r.raise_hold.samples, 2u);
  EXPECT_EQ(r.raise_hold.of, 4u);
  EXPECT_TRUE(r.windowed);
}
