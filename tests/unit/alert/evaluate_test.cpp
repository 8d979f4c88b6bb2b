// Time-stepped tables, one per rule of docs/ALERTING.md "Semantics": samples in,
// transitions and their texts out.
#include "heartbeat/alert/engine.hpp"

#include "table.hpp"

using namespace hb_alert_test;
using heartbeat::alert::engine;

namespace {

const char* readme_cpu = R"(
thresholds:
  cpu_monitor:
    cpu_percent:
      critical: 90
      hysteresis: 0.10
)";

}  // namespace

// README "Alert Behavior" 2: critical 90, hysteresis 10 % -> recovery below 81.
TEST(AlertTable, ReadmeHysteresisExample) {
  engine e(compile(readme_cpu));
  run_table(e, "web01", "cpu_monitor.cpu_percent",
            {
                {0, 50, {}},
                {10, 91, {"notify: CRITICAL: web01 - cpu_monitor.cpu_percent = 91.0"}},
                {20, 85, {}},    // still above 81
                {30, 81.5, {}},  // still above 81
                {40, 79, {"notify: RECOVERED: web01 - cpu_monitor.cpu_percent = 79.0 (CRITICAL -> OK)"}},
                {50, 89, {}},  // below 90 again: no new alert
            });
  EXPECT_EQ(e.find("web01", "cpu_monitor.cpu_percent")->reason,
            "recovered: 79.0 no longer > 81.0 (recovery threshold of 90.0)");
}

// The same example in the other direction: `<` keeps the level until the value is
// above threshold + 10 %.
TEST(AlertTable, HysteresisInverseOperator) {
  engine e(compile(R"(
thresholds:
  disk_monitor:
    partitions:
      /:
        free_gb: {warning: 10, critical: 5, operator: "<", hysteresis: 0.1}
)"));
  run_table(
      e, "db01", "disk_monitor.partitions./.free_gb",
      {
          {0, 20, {}},
          {1, 4, {"notify: CRITICAL: db01 - disk_monitor.partitions./.free_gb = 4.0"}},
          {2, 5.4, {}},                                                                   // below 5.5
          {3, 5.6, {"silent: WARNING: db01 - disk_monitor.partitions./.free_gb = 5.6"}},  // de-escalation
          {4, 10.5, {}},                                                                  // below 11
          {5, 11.5, {"notify: RECOVERED: db01 - disk_monitor.partitions./.free_gb = 11.5 (WARNING -> OK)"}},
      });
}

// Notifications only on state changes; de-escalation is silent.
TEST(AlertTable, EscalationAndSilentDeescalation) {
  engine e(compile(R"(
thresholds:
  cpu_monitor:
    cpu_percent: {warning: 80, critical: 90, operator: ">", hysteresis: 0.02}
)"));
  std::vector<heartbeat::alert::transition> all;
  run_table(
      e, "webserver01", "cpu_monitor.cpu_percent",
      {
          {0, 85, {"notify: WARNING: webserver01 - cpu_monitor.cpu_percent = 85.0"}},
          {30, 86, {}},
          {60, 95, {"notify: CRITICAL: webserver01 - cpu_monitor.cpu_percent = 95.0"}},
          {90, 85, {"silent: WARNING: webserver01 - cpu_monitor.cpu_percent = 85.0"}},
          {120, 50, {"notify: RECOVERED: webserver01 - cpu_monitor.cpu_percent = 50.0 (WARNING -> OK)"}},
      },
      &all);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].reason, "raised: 85.0 > 80.0");
  EXPECT_EQ(all[1].reason, "escalated: 95.0 > 90.0");
  EXPECT_EQ(all[2].reason, "de-escalated: 85.0 > 80.0; not notified: de-escalation");
  EXPECT_EQ(all[1].notification_count, 2u);
  EXPECT_EQ(all[3].notification_count, 0u);
}

// Reminders every threshold_renotify_interval with the README's text.
TEST(AlertTable, Reminders) {
  engine e(compile(R"(
threshold_renotify_interval: 3600
thresholds:
  cpu_monitor:
    load_1min: {warning: 4, critical: 8}
)"));
  run_table(
      e, "mailserver", "cpu_monitor.load_1min",
      {
          {1000, 12.5, {"notify: CRITICAL: mailserver - cpu_monitor.load_1min = 12.5"}},
          {4599, std::nullopt, {}},
          {4600,
           std::nullopt,
           {"notify: REMINDER (CRITICAL): mailserver - cpu_monitor.load_1min = 12.5 (ongoing for 3600s)"}},
          {8000, std::nullopt, {}},
          {8200,
           std::nullopt,
           {"notify: REMINDER (CRITICAL): mailserver - cpu_monitor.load_1min = 12.5 (ongoing for 7200s)"}},
          {8300, 1, {"notify: RECOVERED: mailserver - cpu_monitor.load_1min = 1.0 (CRITICAL -> OK)"}},
          {20000, std::nullopt, {}},
      });
}

// Default interval: 60 minutes.
TEST(AlertTable, ReminderDefaultIsOneHour) {
  engine e(compile("thresholds: {m: {x: {warning: 1}}}"));
  EXPECT_EQ(e.rules().renotify_interval, 3600);
}

// Every operator.
TEST(AlertTable, Operators) {
  engine e(compile(R"(
thresholds:
  p:
    ge: {warning: 10, critical: 20, operator: ">=", hysteresis: 0}
    le: {warning: 10, critical: 5, operator: "<=", hysteresis: 0}
    eq: {critical: 3, operator: "=="}
    ne: {warning: 1, operator: "!="}
)"));
  run_table(e, "h", "p.ge",
            {{0, 10, {"notify: WARNING: h - p.ge = 10.0"}},
             {1, 20, {"notify: CRITICAL: h - p.ge = 20.0"}},
             {2, 9.9, {"notify: RECOVERED: h - p.ge = 9.9 (CRITICAL -> OK)"}}});
  run_table(e, "h", "p.le",
            {{0, 10, {"notify: WARNING: h - p.le = 10.0"}},
             {1, 5, {"notify: CRITICAL: h - p.le = 5.0"}},
             {2, 10.1, {"notify: RECOVERED: h - p.le = 10.1 (CRITICAL -> OK)"}}});
  run_table(e, "h", "p.eq",
            {{0, 2, {}},
             {1, 3, {"notify: CRITICAL: h - p.eq = 3.0"}},
             {2, 4, {"notify: RECOVERED: h - p.eq = 4.0 (CRITICAL -> OK)"}}});
  run_table(e, "h", "p.ne",
            {{0, 1, {}},
             {1, 0, {"notify: WARNING: h - p.ne = 0.0"}},
             {2, 1, {"notify: RECOVERED: h - p.ne = 1.0 (WARNING -> OK)"}}});
}

// Generic matching: leading segments stripped until `status_code` matches; the nagios
// operator maps exit codes; {check_name}, {output}, {status} in the display.
TEST(AlertTable, NagiosGenericMatch) {
  engine e(compile(R"(
thresholds:
  nagios_runner:
    status_code:
      operator: "nagios"
      display: "{check_name}: {output} [{status}]"
)"));
  auto sample = [&](double t, double code, std::string status, std::string output) {
    std::vector<heartbeat::protocol::leaf> leaves{number_leaf("check_disk_root_status_code", code),
                                                  text_leaf("check_disk_root_status", status),
                                                  text_leaf("check_disk_root_output", output),
                                                  number_leaf("check_load_status_code", 0),
                                                  text_leaf("check_load_status", "OK"),
                                                  text_leaf("check_load_output", "LOAD OK")};
    std::vector<heartbeat::alert::transition> out;
    e.evaluate_plugin("web01", "nagios_runner", leaves, t, out);
    std::vector<std::string> got;
    for (auto& x : out) got.push_back(describe(x));
    return got;
  };
  EXPECT_EQ(sample(0, 0, "OK", "DISK OK"), std::vector<std::string>{});
  EXPECT_EQ(
      sample(300, 1, "WARNING", "DISK WARNING - free space: / 900 MB (9%)"),
      std::vector<std::string>{"notify: WARNING: web01 - nagios_runner.check_disk_root_status_code = 1.0 "
                               "check_disk_root: DISK WARNING - free space: / 900 MB (9%) [WARNING]"});
  EXPECT_EQ(
      sample(600, 2, "CRITICAL", "DISK CRITICAL - free space: / 100 MB (1%)"),
      std::vector<std::string>{"notify: CRITICAL: web01 - nagios_runner.check_disk_root_status_code = 2.0 "
                               "check_disk_root: DISK CRITICAL - free space: / 100 MB (1%) [CRITICAL]"});
  EXPECT_EQ(
      sample(900, 3, "UNKNOWN", "cannot stat /"),
      std::vector<std::string>{"notify: UNKNOWN: web01 - nagios_runner.check_disk_root_status_code = 3.0 "
                               "check_disk_root: cannot stat / [UNKNOWN]"});
  EXPECT_EQ(
      sample(1200, 0, "OK", "DISK OK"),
      std::vector<std::string>{"notify: RECOVERED: web01 - nagios_runner.check_disk_root_status_code = 0.0 "
                               "(UNKNOWN -> OK) check_disk_root: DISK OK [OK]"});
  EXPECT_EQ(
      sample(1500, -9, "UNKNOWN", "killed"),  // signal-killed -> UNKNOWN
      std::vector<std::string>{"notify: UNKNOWN: web01 - nagios_runner.check_disk_root_status_code = -9.0 "
                               "check_disk_root: killed [UNKNOWN]"});
  // Both checks have states; the non-matching string leaves do not.
  auto js = e.host_alerts_json("web01");
  EXPECT_EQ(js.find("alerts")->size(), 2u);
}

// Exact entries win over generic ones.
TEST(AlertTable, ExactMatchBeatsGeneric) {
  engine e(compile(R"(
thresholds:
  nagios_runner:
    status_code: {operator: nagios}
    check_load_status_code: {critical: 2, operator: ">="}
)"));
  std::vector<heartbeat::protocol::leaf> leaves{number_leaf("check_load_status_code", 1),
                                                number_leaf("check_ssh_status_code", 1)};
  std::vector<heartbeat::alert::transition> out;
  e.evaluate_plugin("h", "nagios_runner", leaves, 0, out);
  ASSERT_EQ(out.size(), 1u);  // exit 1 is no alert for the exact rule (critical >= 2)
  EXPECT_EQ(out[0].text, "WARNING: h - nagios_runner.check_ssh_status_code = 1.0");
}

// Nested metrics: the path joins the keys (disk_monitor.partitions./.percent).
TEST(AlertTable, NestedPaths) {
  engine e(compile(R"(
thresholds:
  disk_monitor:
    partitions:
      /:
        percent: {warning: 80, critical: 90}
)"));
  run_table(e, "database01", "disk_monitor.partitions./.percent",
            {{0, 85, {"notify: WARNING: database01 - disk_monitor.partitions./.percent = 85.0"}},
             {1,
              75,
              {"notify: RECOVERED: database01 - disk_monitor.partitions./.percent = 75.0 (WARNING -> OK)"}}});
  // Other partitions have no rule.
  run_table(e, "database01", "disk_monitor.partitions./var.percent", {{2, 99, {}}});
}

// RTT thresholds: rtt.<host>, checked on every HTB.
TEST(AlertTable, Rtt) {
  engine e(compile(R"(
thresholds:
  rtt:
    webserver01: {warning: 100.0, critical: 500.0}
    database01: {warning: 50.0, critical: 200.0}
    "edge-*": {warning: 20}
)"));
  run_table(e, "webserver01", "rtt",
            {{0, 30, {}},
             {30, 125.3, {"notify: WARNING: webserver01 - rtt.webserver01 = 125.3"}},
             {60, 99, {}},  // hysteresis 2 %: recovery below 98
             {90, 45.2, {"notify: RECOVERED: webserver01 - rtt.webserver01 = 45.2 (WARNING -> OK)"}}});
  run_table(e, "database01", "rtt", {{0, 520.1, {"notify: CRITICAL: database01 - rtt.database01 = 520.1"}}});
  run_table(e, "edge-7", "rtt", {{0, 21, {"notify: WARNING: edge-7 - rtt.edge-7 = 21.0"}}});
  run_table(e, "other", "rtt", {{0, 5000, {}}});
}

// `for`: N seconds or N consecutive samples before raising; `recover_after` likewise.
TEST(AlertTable, ForSecondsAndSamples) {
  engine e(compile(R"(
thresholds:
  p:
    secs: {warning: 80, for: 60}
    samples: {warning: 80, for: "3 samples", recover_after: "2 samples"}
)"));
  run_table(e, "h", "p.secs",
            {{0, 90, {}},
             {30, 90, {}},
             {45, 70, {}},  // condition broke: the hold restarts
             {50, 90, {}},
             {100, 90, {}},
             {110, 91, {"notify: WARNING: h - p.secs = 91.0"}}});
  run_table(e, "h", "p.samples",
            {{0, 90, {}},
             {1, 90, {}},
             {2, 90, {"notify: WARNING: h - p.samples = 90.0"}},
             {3, 10, {}},
             {4, 90, {}},  // recovery hold broken
             {5, 10, {}},
             {6, 10, {"notify: RECOVERED: h - p.samples = 10.0 (WARNING -> OK)"}}});
}

// Missing data: no sample for `missing_after` -> UNKNOWN; the next sample re-evaluates.
TEST(AlertTable, MissingDataGoesUnknown) {
  engine e(compile(R"(
threshold_missing_after: 600
thresholds:
  p:
    x: {warning: 80}
    y: {warning: 80, missing_after: 0}
)"));
  run_table(e, "h", "p.x",
            {{0, 50, {}},
             {599, std::nullopt, {}},
             {600, std::nullopt, {"notify: UNKNOWN: h - p.x = no data"}},
             {1200, std::nullopt, {}},
             {1300, 50, {"notify: RECOVERED: h - p.x = 50.0 (UNKNOWN -> OK)"}}});
  EXPECT_EQ(e.find("h", "p.x")->reason, "recovered: 50.0 within thresholds (was UNKNOWN)");
  engine f(compile(R"(
threshold_missing_after: 600
thresholds: {p: {y: {warning: 80, missing_after: 0}}}
)"));
  run_table(f, "h", "p.y", {{0, 50, {}}, {100000, std::nullopt, {}}});
}

// Missing data waits for hbd's liveness clock: while samples sit unread in the socket buffer (an io
// stall) nothing is missing; once the backlog is read and the metric is still silent, it is.
TEST(AlertTable, MissingDataWaitsForTheLivenessClock) {
  using heartbeat::clock::instant;
  engine e(compile("threshold_missing_after: 60\nthresholds: {p: {x: {warning: 80}}}"));
  std::vector<heartbeat::alert::transition> out;
  heartbeat::protocol::leaf l;
  l.path = "x";
  l.type = heartbeat::protocol::leaf::kind::number;
  l.number = 50;
  e.evaluate_plugin("h", "p", {&l, 1}, instant(1000, 0), out);
  e.tick(instant(1100, 100), out, 30);  // 100 s of real time, but read only up to 30 s
  EXPECT_TRUE(out.empty());
  e.tick(instant(1101, 101), out, 61);  // the backlog read: still silent at 61 s
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, heartbeat::alert::level::unknown);
}

// Acknowledgement stops reminders until the level changes.
TEST(AlertTable, AcknowledgementStopsReminders) {
  engine e(compile(R"(
threshold_renotify_interval: 100
thresholds: {p: {x: {warning: 80, critical: 90}}}
)"));
  run_table(e, "h", "p.x", {{0, 85, {"notify: WARNING: h - p.x = 85.0"}}});
  auto a = e.ack("h", "p.x", "alice", 50);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->text, "ACKNOWLEDGED (WARNING): h - p.x = 85.0 by alice");
  EXPECT_FALSE(a->notify);
  EXPECT_TRUE(e.find("h", "p.x")->acknowledged);
  run_table(e, "h", "p.x",
            {{100, std::nullopt, {}},
             {300, std::nullopt, {}},
             {301, 95, {"notify: CRITICAL: h - p.x = 95.0"}},  // level change clears the ack
             {401, std::nullopt, {"notify: REMINDER (CRITICAL): h - p.x = 95.0 (ongoing for 401s)"}}});
  EXPECT_FALSE(e.find("h", "p.x")->acknowledged);
  EXPECT_EQ(e.ack("h", "p.nope", "alice", 1).err().code, "not_found");
  run_table(e, "h", "p.x", {{500, 1, {"notify: RECOVERED: h - p.x = 1.0 (CRITICAL -> OK)"}}});
  EXPECT_EQ(e.ack("h", "p.x", "alice", 501).err().code, "not_alerting");
}

// watch: false keeps the state (and the alerts page) but notifies nothing.
TEST(AlertTable, WatchFalse) {
  engine e(compile(R"(
threshold_renotify_interval: 10
thresholds: {p: {x: {warning: 80}}}
hosts:
  quiet: {watch: false}
)"));
  std::vector<heartbeat::alert::transition> all;
  run_table(e, "quiet", "p.x", {{0, 85, {"silent: WARNING: quiet - p.x = 85.0"}}, {100, std::nullopt, {}}},
            &all);
  EXPECT_EQ(all[0].reason, "raised: 85.0 > 80.0; suppressed: watch false");
  EXPECT_EQ(e.find("quiet", "p.x")->m.lvl, heartbeat::alert::level::warning);
  e.set_watch("quiet", true);
  // Nothing was sent: the recovery is not notified either.
  run_table(e, "quiet", "p.x",
            {{200, 95, {}}, {300, 50, {"silent: RECOVERED: quiet - p.x = 50.0 (WARNING -> OK)"}}});
}

// A one-off maintenance window: state is tracked, nothing is sent; at the end the
// current level is sent if it differs from the last one sent.
TEST(AlertTable, MaintenanceOneOff) {
  engine e(compile(R"(
threshold_renotify_interval: 50
thresholds: {p: {x: {warning: 80, critical: 90}}}
maintenance:
  - name: nightly-backup
    hosts: ["db-*"]
    start: 1000
    end: 2000
)"));
  std::vector<heartbeat::alert::transition> all;
  run_table(e, "db-1", "p.x",
            {{900, 50, {}},
             {1000, 95, {"silent: CRITICAL: db-1 - p.x = 95.0"}},
             {1100, std::nullopt, {}},  // no reminders inside the window
             {1999, 96, {}},
             {2000, std::nullopt, {"notify: CRITICAL: db-1 - p.x = 96.0"}},
             {2050, std::nullopt, {"notify: REMINDER (CRITICAL): db-1 - p.x = 96.0 (ongoing for 1050s)"}}},
            &all);
  EXPECT_EQ(all[0].reason, "raised: 95.0 > 90.0; suppressed: maintenance nightly-backup");
  EXPECT_EQ(all[1].reason, "maintenance nightly-backup ended: OK was last sent, now CRITICAL");
  EXPECT_EQ(all[1].kind, heartbeat::alert::transition_kind::resend);
  // A host the window does not cover notifies as usual.
  run_table(e, "web-1", "p.x", {{1500, 95, {"notify: CRITICAL: web-1 - p.x = 95.0"}}});
}

// Alert raised before the window and recovered inside it: the recovery is sent at the end.
TEST(AlertTable, MaintenanceRecoveryInsideWindow) {
  engine e(compile(R"(
thresholds: {p: {x: {warning: 80}}}
maintenance:
  - {name: upgrade, start: "1970-01-01T00:16:40Z", duration: 1000}
)"));
  run_table(e, "h", "p.x",
            {{0, 85, {"notify: WARNING: h - p.x = 85.0"}},
             {1500, 10, {"silent: RECOVERED: h - p.x = 10.0 (WARNING -> OK)"}},
             {2000, std::nullopt, {"notify: RECOVERED: h - p.x = 10.0 (WARNING -> OK)"}}});
  // No window: recovery of an alert never sent is silent.
}

// A weekly window (every Sunday 02:00 UTC for 2 h).
TEST(AlertTable, MaintenanceWeekly) {
  engine e(compile(R"(
thresholds: {p: {x: {warning: 80}}}
maintenance:
  - {name: sunday, days: [sun], at: "02:00", duration: 2h}
)"));
  const double sunday_0230 = 1763778600 + 86400;  // Sunday 2025-11-23 02:30 UTC
  ASSERT_EQ(e.maintenance_of("h"), "");
  run_table(e, "h", "p.x",
            {{sunday_0230 - 86400, 85, {"notify: WARNING: h - p.x = 85.0"}},
             {sunday_0230, 10, {"silent: RECOVERED: h - p.x = 10.0 (WARNING -> OK)"}}});
  EXPECT_EQ(e.maintenance_of("h"), "sunday");
  run_table(e, "h", "p.x",
            {{sunday_0230 + 5400, std::nullopt, {"notify: RECOVERED: h - p.x = 10.0 (WARNING -> OK)"}}});
  EXPECT_EQ(e.maintenance_of("h"), "");
}

// The pure step on its own: rule, state, value, time in; the level change out.
TEST(AlertEvaluate, PureStep) {
  auto rs = compile("thresholds: {p: {x: {warning: 80, critical: 90, hysteresis: 0.1}}}");
  const auto& r = rs.defaults->plugin("p")->by_path.at("x");
  heartbeat::alert::metric_state s;
  auto a = heartbeat::alert::evaluate(r, s, 95, 10);
  EXPECT_TRUE(a.changed);
  EXPECT_EQ(a.to, heartbeat::alert::level::critical);
  EXPECT_EQ(a.threshold, 90);
  EXPECT_EQ(s.since, 10);
  auto b = heartbeat::alert::evaluate(r, s, 82, 20);  // below 90, above 81: kept
  EXPECT_FALSE(b.changed);
  EXPECT_EQ(s.last_value, 82);
  EXPECT_EQ(s.last_check, 20);
  auto c = heartbeat::alert::evaluate(r, s, 80.5, 30);  // below 81: WARNING (80.5 > 72)
  EXPECT_EQ(c.to, heartbeat::alert::level::warning);
}

// Booleans are 0/1; a dropped host's states are gone and their slots reused safely.
TEST(AlertTable, BooleansAndForgetHost) {
  engine e(compile(R"(
threshold_renotify_interval: 10
thresholds: {p: {up: {critical: 0, operator: "=="}, x: {warning: 1}}}
)"));
  heartbeat::protocol::leaf b;
  b.path = "up";
  b.type = heartbeat::protocol::leaf::kind::boolean;
  b.number = 0;
  std::vector<heartbeat::protocol::leaf> leaves{b};
  std::vector<heartbeat::alert::transition> out;
  e.evaluate_plugin("h1", "p", leaves, 0, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "CRITICAL: h1 - p.up = 0.0");
  e.forget_host("h1");
  EXPECT_EQ(e.find("h1", "p.up"), nullptr);
  EXPECT_EQ(e.state_count(), 0u);
  // The freed slot is reused by another host; exactly one reminder follows.
  run_table(e, "h2", "p.x", {{1, 5, {"notify: WARNING: h2 - p.x = 5.0"}}});
  run_table(e, "h2", "p.x",
            {{11, std::nullopt, {"notify: REMINDER (WARNING): h2 - p.x = 5.0 (ongoing for 10s)"}}});
  EXPECT_EQ(e.alerts_json(2).find("summary")->find("total")->as_number(), 1);
}

// threshold_renotify_interval: 0 turns reminders off.
TEST(AlertTable, NoReminders) {
  engine e(compile("threshold_renotify_interval: 0\nthresholds: {p: {x: {warning: 1}}}"));
  run_table(e, "h", "p.x", {{0, 5, {"notify: WARNING: h - p.x = 5.0"}}, {1e6, std::nullopt, {}}});
}

// The wall clock steps 2 h forward, then back: no reminder, no missing data, no early `for`;
// those run on the monotonic face of the time, and a restored state maps its wall times once.
TEST(AlertClock, WallClockStepsTriggerNothing) {
  using heartbeat::clock::instant;
  engine e(compile(R"(
threshold_renotify_interval: 600
threshold_missing_after: 60
thresholds:
  p:
    x: {critical: 90}
    slow: {warning: 50, for: 300}
)"));
  std::vector<heartbeat::alert::transition> out;
  auto sample = [&](const char* leaf, double v, instant t) {
    heartbeat::protocol::leaf l;
    l.path = leaf;
    l.type = heartbeat::protocol::leaf::kind::number;
    l.number = v;
    e.evaluate_plugin("h", "p", {&l, 1}, t, out);
  };
  sample("x", 95, instant(1000, 10));
  ASSERT_EQ(out.size(), 1u);
  out.clear();
  double mono = 10;
  for (double wall_offset : {990.0 + 7200, 990.0 - 7200, 990.0}) {
    for (int i = 0; i < 20; ++i) {
      mono += 1;
      sample("x", 95, instant(mono + wall_offset, mono));
      sample("slow", 60, instant(mono + wall_offset, mono));
      e.tick(instant(mono + wall_offset, mono), out);
    }
  }
  EXPECT_TRUE(out.empty()) << out.front().text;
  // Real time does pass: 300 s after `slow` went over 50 it is WARNING, 600 s after the CRITICAL
  // notification of x comes its reminder.
  sample("x", 95, instant(990 + 611, 611));
  sample("slow", 60, instant(990 + 611, 611));
  e.tick(instant(990 + 611, 611), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].text, "WARNING: h - p.slow = 60.0");
  EXPECT_EQ(out[1].kind, heartbeat::alert::transition_kind::reminder);
}
