// The notifier's maintenance stage and the alert engine agree on every host and minute: both read
// the config's `maintenance` list with the alert engine's parser (one-off, weekly, cron windows;
// host names and globs), so a notification is suppressed exactly when the engine says the host is
// in maintenance.
#include <gtest/gtest.h>

#include "heartbeat/alert/rules.hpp"
#include "heartbeat/config/yaml.hpp"
#include "heartbeat/notify/pipeline.hpp"
#include "heartbeat/notify/settings.hpp"
#include "heartbeat/notify/stages/maintenance.hpp"

using namespace heartbeat;

namespace {

const char* windows_yaml = R"(
maintenance:
  - name: nightly-backup
    hosts: ["db-*", web-01]
    days: [mon, tue, wed, thu, fri]
    at: "02:00"
    duration: 2h
  - name: patch-sunday
    cron: "0 3 * * sun"
    duration: 90m
  - name: upgrade
    hosts: ["web-0?"]
    start: "2026-11-24T22:00:00Z"
    end: "2026-11-24T23:00:00Z"
)";

json::value root() {
  auto tree = config::parse_yaml(windows_yaml);
  EXPECT_TRUE(tree);
  return *tree;
}

notify::notification host_down(const std::string& host) {
  notify::notification n;
  n.kind = notify::kind::host_down;
  n.host = host;
  n.level = notify::level::critical;
  n.text = host + " is DOWN";
  return n;
}

constexpr double sunday_0300 = 1795316400;  // 2026-11-22T03:00:00Z, a Sunday

}  // namespace

TEST(NotifyMaintenanceAgreement, RecurringWindowsAndGlobsSuppressLikeTheAlertEngine) {
  config::diagnostics d;
  auto s = notify::load_config(root(), d);
  ASSERT_EQ(s.maintenance.size(), 3u);
  notify::stages::maintenance stage(s.maintenance);
  // Sunday 03:30: patch-sunday covers every host.
  EXPECT_EQ(stage.check(host_down("anything"), sunday_0300 + 1800), notify::reason::maintenance);
  // Monday 02:30: nightly-backup covers db-* (a glob) and web-01, not web-02.
  double monday_0230 = sunday_0300 + 86400 - 1800;
  EXPECT_EQ(stage.check(host_down("db-17"), monday_0230), notify::reason::maintenance);
  EXPECT_EQ(stage.check(host_down("web-01"), monday_0230), notify::reason::maintenance);
  EXPECT_FALSE(stage.check(host_down("web-02"), monday_0230));
  // Monday 04:00: the window has ended.
  EXPECT_FALSE(stage.check(host_down("db-17"), monday_0230 + 5400));
  // The one-off window with a '?' glob.
  double tuesday_2230 = sunday_0300 + 2 * 86400 + 19.5 * 3600;
  EXPECT_EQ(stage.check(host_down("web-02"), tuesday_2230), notify::reason::maintenance);
  EXPECT_FALSE(stage.check(host_down("web-10"), tuesday_2230));
}

TEST(NotifyMaintenanceAgreement, EveryHostAndMinuteOfAWeekMatchesTheEngine) {
  config::diagnostics d1, d2;
  json::value r = root();
  auto rules = alert::compile_rules(r, d1);
  ASSERT_FALSE(d1.has_errors());
  auto s = notify::load_config(r, d2);
  notify::stages::maintenance stage(s.maintenance);
  std::size_t covered = 0, checked = 0;
  for (const char* host : {"db-1", "db-22", "web-01", "web-02", "web-10", "mail"}) {
    for (double t = sunday_0300 - 86400; t < sunday_0300 + 7 * 86400; t += 420) {
      bool engine = alert::window_covering(rules.maintenance, host, t) != nullptr;
      bool notifier = stage.check(host_down(host), t).has_value();
      ASSERT_EQ(engine, notifier) << host << " at " << t;
      covered += engine;
      ++checked;
    }
  }
  EXPECT_GT(covered, 0u);
  EXPECT_LT(covered, checked);
}

TEST(NotifyMaintenanceAgreement, ChannelFailuresAreNeverSuppressed) {
  config::diagnostics d;
  notify::stages::maintenance stage(notify::load_config(root(), d).maintenance);
  auto n = host_down("db-1");
  n.kind = notify::kind::channel_failure;
  EXPECT_FALSE(stage.check(n, sunday_0300 + 60));
}
