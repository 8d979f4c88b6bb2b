// Compiling the alerting configuration: every error with its key path, per-host
// profiles applied left to right, maintenance windows and cron expressions.
#include "heartbeat/alert/rules.hpp"

#include <gmock/gmock.h>

#include "heartbeat/alert/engine.hpp"
#include "table.hpp"

using namespace hb_alert_test;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(AlertRules, SeedExampleCompilesCleanly) {
  auto rs = compile(R"cfg(
thresholds:
  rtt:
    webserver01: {warning: 100.0, critical: 500.0}
  cpu_monitor:
    cpu_percent:
      warning: 80.0
      critical: 90.0
      operator: ">"
      hysteresis: 0.02
      display: "(threshold: {op_symbol} {threshold_value}%)"
  memory_monitor:
    percent: {warning: 85.0, critical: 95.0}
  disk_monitor:
    partitions:
      /:
        percent: {warning: 80.0, critical: 90.0}
        free_gb: {warning: 10.0, critical: 5.0, operator: "<"}
  nagios_runner:
    status_code: {operator: "nagios", display: "{check_name}: {output}"}
threshold_renotify_interval: 3600
)cfg");
  const auto* disk = rs.defaults->plugin("disk_monitor");
  ASSERT_NE(disk, nullptr);
  EXPECT_EQ(disk->by_path.size(), 2u);
  EXPECT_NE(rs.rtt_rule("webserver01"), nullptr);
  EXPECT_EQ(rs.rtt_rule("nope"), nullptr);
}

TEST(AlertRules, ErrorsNameTheKeyPath) {
  auto d = diagnose(R"(
thresholds:
  cpu_monitor:
    cpu_percent: {warning: 90, critical: 80}
    load_1min: {warning: 1, critical: 2, operator: "=>"}
    steal: {warning: 1, hysteresis: 1.5}
  disk_monitor:
    free_gb: {warning: 5, critical: 10, operator: "<"}
  nagios_runner:
    status_code: {operator: nagios, display: "{check}: {valeu} {data.custom} {total_mb}"}
  rtt:
    web01: {warning: 100, display: "{total_mb}"}
threshold_configs:
  tight: {thresholds: {cpu_monitor: {cpu_percent: {warning: 60, critical: 75}}}}
hosts:
  db-01: {threshold_config: [tight, nosuch]}
threshold_renotify_interval: soon
)");
  EXPECT_THAT(
      d, Contains("thresholds.cpu_monitor.cpu_percent.warning: warning (90.0) must be below critical (80.0) "
                  "for operator >"));
  EXPECT_THAT(
      d, Contains("thresholds.cpu_monitor.load_1min.operator: unknown operator \"=>\" (use >, >=, <, <=, ==, "
                  "!= or nagios)"));
  EXPECT_THAT(
      d, Contains("thresholds.cpu_monitor.steal.hysteresis: must be a fraction between 0 and 1 (0.02 = 2 %), "
                  "not 1.5"));
  EXPECT_THAT(
      d, Contains("thresholds.disk_monitor.free_gb.warning: warning (5.0) must be above critical (10.0) for "
                  "operator <"));
  EXPECT_THAT(
      d, Contains(HasSubstr("thresholds.nagios_runner.status_code.display: unknown template variable {check} "
                            "(did you mean {check_name}?")));
  EXPECT_THAT(
      d, Contains("thresholds.rtt.web01.display: unknown template variable {total_mb} (RTT rules have no "
                  "plugin fields)"));
  EXPECT_THAT(d, Contains("hosts.db-01.threshold_config.1: unknown profile \"nosuch\" (known: tight)"));
  EXPECT_THAT(
      d, Contains(
             "threshold_renotify_interval: must be a duration in seconds or like 30m, 1h (0: no reminders)"));
}

TEST(AlertRules, TemplateTypoIsReported) {
  auto d = diagnose("thresholds: {p: {x: {warning: 1, display: \"{valeu}\"}}}");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_THAT(d[0],
              HasSubstr("thresholds.p.x.display: unknown template variable {valeu} (did you mean {value}?"));
}

TEST(AlertRules, RuleNeedsALevel) {
  EXPECT_THAT(diagnose("thresholds: {p: {x: {operator: '>'}}}"),
              ElementsAre("thresholds.p.x: needs warning and/or critical (or operator: nagios)"));
  EXPECT_THAT(
      diagnose("thresholds: {p: {x: {operator: nagios, warning: 1}}}"),
      ElementsAre("thresholds.p.x.warning: the nagios operator maps exit codes to levels; warning/critical "
                  "are not used"));
  EXPECT_THAT(
      diagnose("thresholds: {p: {x: 5}}"),
      ElementsAre(
          "thresholds.p.x: must be a rule (warning/critical/operator) or a mapping of nested metrics"));
  EXPECT_THAT(diagnose("thresholds: {p: {x: {warning: 1, colour: red}}}"),
              ElementsAre("thresholds.p.x.colour: unknown key (ignored)"));
}

TEST(AlertRules, ForAndMissingValues) {
  EXPECT_THAT(
      diagnose("thresholds: {p: {x: {warning: 1, for: soon}}}"),
      ElementsAre("thresholds.p.x.for: must be seconds (90, \"5m\") or a sample count (\"3 samples\")"));
  auto rs = compile("thresholds: {p: {x: {warning: 1, for: 5m, recover_after: 3x, missing_after: 1h}}}");
  const auto& r = rs.defaults->plugin("p")->by_path.at("x");
  EXPECT_EQ(r.raise_hold.seconds, 300);
  EXPECT_EQ(r.recover_hold.samples, 3u);
  EXPECT_EQ(r.missing_after, 3600);
}

// Profiles: a list applies left to right on top of the defaults; unmentioned metrics inherit.
TEST(AlertRules, ProfilesLayerLeftToRight) {
  auto rs = compile(R"(
thresholds:
  cpu_monitor:
    cpu_percent: {warning: 80, critical: 90, hysteresis: 0.05}
  memory_monitor:
    memory_percent: {warning: 85, critical: 95}
threshold_configs:
  default:
    thresholds:
      cpu_monitor:
        cpu_percent: {warning: 80, critical: 90}
  tight_cpu:
    thresholds:
      cpu_monitor:
        cpu_percent: {warning: 60, critical: 75}
  db_disk:
    thresholds:
      disk_monitor:
        partitions:
          /var/lib/postgresql:
            percent: {warning: 75, critical: 88}
      rtt: {warning: 10}
hosts:
  web-01: {threshold_config: default}
  db-01: {threshold_config: [tight_cpu, db_disk]}
)");
  const auto& db = rs.table_for("db-01");
  const auto& cpu = db.plugin("cpu_monitor")->by_path.at("cpu_percent");
  EXPECT_EQ(cpu.warning, 60);
  EXPECT_EQ(cpu.critical, 75);
  EXPECT_EQ(cpu.hysteresis, 0.05);  // key-wise merge: inherited from the defaults
  EXPECT_NE(db.plugin("memory_monitor"), nullptr);
  EXPECT_NE(db.plugin("disk_monitor"), nullptr);
  EXPECT_EQ(rs.table_for("web-01").plugin("cpu_monitor")->by_path.at("cpu_percent").warning, 80);
  EXPECT_EQ(rs.table_for("other").plugin("disk_monitor"), nullptr);
  ASSERT_NE(rs.rtt_rule("db-01"), nullptr);
  EXPECT_EQ(rs.rtt_rule("db-01")->warning, 10);

  heartbeat::alert::engine e(std::move(rs));
  run_table(e, "db-01", "cpu_monitor.cpu_percent",
            {{0, 70, {"notify: WARNING: db-01 - cpu_monitor.cpu_percent = 70.0"}}});
  run_table(e, "web-01", "cpu_monitor.cpu_percent", {{0, 70, {}}});
  run_table(
      e, "db-01", "disk_monitor.partitions./var/lib/postgresql.percent",
      {{0, 90, {"notify: CRITICAL: db-01 - disk_monitor.partitions./var/lib/postgresql.percent = 90.0"}}});
}

// A combination that breaks the order is reported at the host.
TEST(AlertRules, ProfileCombinationErrors) {
  auto d = diagnose(R"(
thresholds: {cpu_monitor: {cpu_percent: {warning: 80, critical: 90}}}
threshold_configs:
  high_warn: {thresholds: {cpu_monitor: {cpu_percent: {warning: 95}}}}
hosts:
  h1: {threshold_config: high_warn}
)");
  EXPECT_THAT(
      d, ElementsAre("hosts.h1.threshold_config: with profiles applied, cpu_monitor.cpu_percent.warning: "
                     "warning (95.0) must be below critical (90.0) for operator >"));
}

TEST(AlertRules, MaintenanceErrors) {
  auto d = diagnose(R"(
maintenance:
  - {name: a, start: "tomorrow", end: 5}
  - {name: b, cron: "0 2 * *", duration: 1h}
  - {name: c, days: [sun, funday], at: "25:00", duration: 1h}
  - {name: d, cron: "0 2 * * *"}
  - {name: e}
  - {name: a, start: 10, end: 5}
)");
  EXPECT_THAT(d,
              Contains("maintenance.0.start: must be a Unix time or a UTC time like 2026-11-23T22:00:00Z"));
  EXPECT_THAT(d,
              Contains("maintenance.1.cron: must have 5 fields: minute hour day-of-month month day-of-week"));
  EXPECT_THAT(d, Contains("maintenance.2.days.1: unknown day \"funday\" (mon..sun)"));
  EXPECT_THAT(d, Contains("maintenance.2.at: must be a UTC time of day like \"02:30\""));
  EXPECT_THAT(d, Contains("maintenance.3.duration: a recurring window needs a duration"));
  EXPECT_THAT(
      d, Contains(
             "maintenance.4: needs exactly one of start (one-off), days + at (weekly) or cron (recurring)"));
  EXPECT_THAT(d, Contains("maintenance.5.name: duplicate window name \"a\""));
  EXPECT_THAT(d, Contains("maintenance.5.end: must be after start"));
}

TEST(AlertMaintenance, CronWindows) {
  auto rs = compile(R"(
maintenance:
  - {name: weekdays, cron: "30 1 * * mon-fri", duration: 30m, hosts: ["web-*", db-1]}
  - {name: monthly, cron: "0 0 1 * *", duration: 1h}
)");
  ASSERT_EQ(rs.maintenance.size(), 2u);
  const auto& w = rs.maintenance[0];
  EXPECT_TRUE(w.applies_to("web-3"));
  EXPECT_TRUE(w.applies_to("db-1"));
  EXPECT_FALSE(w.applies_to("db-2"));
  double change = 0;
  const double mon_0140 = 1763948400;  // Monday 2025-11-24 01:40 UTC
  EXPECT_TRUE(w.active_at(mon_0140, change));
  EXPECT_EQ(change, mon_0140 + 20 * 60);
  EXPECT_FALSE(w.active_at(mon_0140 + 3600, change));
  EXPECT_EQ(change, mon_0140 + 86400 - 10 * 60);  // Tuesday 01:30
  // Saturday: next start is Monday.
  EXPECT_FALSE(w.active_at(mon_0140 - 2 * 86400, change));
  EXPECT_EQ(change, mon_0140 - 10 * 60);
  const auto& m = rs.maintenance[1];
  EXPECT_FALSE(m.active_at(mon_0140, change));
  EXPECT_EQ(change, 1764547200);  // 2025-12-01 00:00 UTC
  EXPECT_TRUE(m.active_at(1764547200 + 60, change));
}

TEST(AlertMaintenance, UtcTimes) {
  using heartbeat::alert::detail::parse_utc_time;
  EXPECT_EQ(parse_utc_time("2026-11-23T22:00:00Z"), 1795471200.0);
  EXPECT_EQ(parse_utc_time("2026-11-23 22:00"), 1795471200.0);
  EXPECT_FALSE(parse_utc_time("2026-11-23"));
  EXPECT_FALSE(parse_utc_time("2026-13-23T22:00Z"));
}

TEST(AlertMaintenance, WindowCoveringIsPure) {
  auto rs = compile(R"(
maintenance:
  - {name: a, hosts: ["db-*"], start: 100, end: 200}
  - {name: b, start: 150, duration: 100}
)");
  using heartbeat::alert::window_covering;
  EXPECT_EQ(window_covering(rs.maintenance, "web", 120), nullptr);
  EXPECT_EQ(window_covering(rs.maintenance, "db-1", 120)->name, "a");
  EXPECT_EQ(window_covering(rs.maintenance, "web", 160)->name, "b");
  EXPECT_EQ(window_covering(rs.maintenance, "web", 250), nullptr);  // end is exclusive
}
