// Specification of each pipeline stage on its own (watch, maintenance, dedup,
// routing, rate limit, retry, fallback); time is an argument, nothing sleeps.
#include "heartbeat/notify/stages/dedup.hpp"
#include "heartbeat/notify/stages/fallback.hpp"
#include "heartbeat/notify/stages/maintenance.hpp"
#include "heartbeat/notify/stages/rate_limit.hpp"
#include "heartbeat/notify/stages/retry.hpp"
#include "heartbeat/notify/stages/route.hpp"
#include "heartbeat/notify/stages/watch.hpp"

#include <gtest/gtest.h>

#include "heartbeat/config/yaml.hpp"

using namespace heartbeat;
using namespace heartbeat::notify;

namespace {

notification alert_for(const std::string& host, const std::string& path, level l, double ts = 0) {
  notification n;
  n.host = host;
  n.metric_path = path;
  n.level = n.severity = l;
  n.text = std::string(to_string(l)) + ": " + host + " - " + path + " = 1.0";
  n.ts = ts;
  return n;
}

settings load(const std::string& yaml) {
  config::diagnostics d;
  auto s = load_config(*config::parse_yaml(yaml), d);
  EXPECT_FALSE(d.has_errors());
  return s;
}

const char* users_yaml = R"(
notifiers:
  mail: {type: email, smtp_host: h, from: f@x}
  push: {type: pushover, token: t}
  hook: {type: webhook, url: "http://x"}
users:
  root: {admin: true, notification_channels: [hook]}
  alice: {notification_channels: [mail, push], notification_level: CRITICAL}
  bob: {notification_channels: [mail], quiet_hours: {start: "22:00", end: "06:00"}}
  carol: {notification_channels: [push]}
  dave: {}
hosts:
  web01: {owner: alice, managers: [bob], monitors: [carol]}
  db01: {owner: bob, watch: false}
)";

}  // namespace

TEST(NotifyWatch, UnwatchedHostsAreSilenced) {
  directory dir(load(users_yaml));
  EXPECT_EQ(stages::check_watch(alert_for("db01", "x", level::critical), dir), reason::watch);
  EXPECT_FALSE(stages::check_watch(alert_for("web01", "x", level::critical), dir));
  EXPECT_FALSE(stages::check_watch(alert_for("new-host", "x", level::critical), dir));
  dir.set_watch("web01", false);
  EXPECT_EQ(stages::check_watch(alert_for("web01", "x", level::critical), dir), reason::watch);
}

TEST(NotifyMaintenance, WindowsCoverTheirHostsAndTime) {
  auto once = [](std::vector<std::string> hosts, double start, double end) {
    maintenance_window w;
    w.hosts = std::move(hosts);
    w.start = start;
    w.end = end;
    return w;
  };
  stages::maintenance m({once({"web01"}, 100, 200), once({}, 1000, 1100)});
  EXPECT_EQ(m.check(alert_for("web01", "x", level::warning), 150), reason::maintenance);
  EXPECT_FALSE(m.check(alert_for("web01", "x", level::warning), 200));
  EXPECT_FALSE(m.check(alert_for("db01", "x", level::warning), 150));
  EXPECT_EQ(m.check(alert_for("db01", "x", level::warning), 1050), reason::maintenance);
  m.set_check([](const std::string& h, double now) { return h == "db01" && now > 5000; });
  EXPECT_EQ(m.check(alert_for("db01", "x", level::warning), 6000), reason::maintenance);
}

TEST(NotifyDedup, RepeatsWithinTheWindowAreSuppressedFlapsAreNot) {
  stages::dedup d(60);
  auto w = alert_for("web01", "cpu", level::warning);
  EXPECT_FALSE(d.check(w, 0));
  EXPECT_EQ(d.check(w, 30), reason::dedup);
  EXPECT_FALSE(d.check(alert_for("web01", "mem", level::warning), 31));   // another metric
  EXPECT_FALSE(d.check(alert_for("web01", "cpu", level::critical), 32));  // escalation
  auto ok = alert_for("web01", "cpu", level::ok);
  EXPECT_FALSE(d.check(ok, 33));
  EXPECT_FALSE(d.check(alert_for("web01", "cpu", level::critical), 34));  // flapping back is news
  EXPECT_FALSE(d.check(w, 200));
  EXPECT_FALSE(d.check(w, 261));  // window passed
}

TEST(NotifyRoute, EveryNotifierGetsEverythingWithoutUsers) {
  auto s = load("notifiers: {a: {type: webhook, url: 'http://x'}, b: {type: webhook, url: 'http://y'}}\n");
  directory dir(s);
  auto r = stages::route_notification(alert_for("web01", "x", level::warning), dir, {"a", "b"}, 0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].user, "");
  EXPECT_EQ(r[0].channels, (std::vector<std::string>{"a", "b"}));
}

TEST(NotifyRoute, UsersWithARoleOnTheirChannelsFilteredBySeverityAndQuietHours) {
  directory dir(load(users_yaml));
  std::vector<std::string> all{"mail", "push", "hook"};
  double noon = 1767268800;  // 2026-01-01T12:00:00Z
  auto r = stages::route_notification(alert_for("web01", "x", level::warning), dir, all, noon);
  ASSERT_EQ(r.size(), 4u);  // root (admin), alice (owner), bob (manager), carol (monitor); not dave
  EXPECT_EQ(r[0].user, "root");
  EXPECT_EQ(r[0].channels, std::vector<std::string>{"hook"});
  EXPECT_EQ(r[1].user, "alice");
  EXPECT_EQ(r[1].suppressed, reason::severity);  // alice wants CRITICAL only
  EXPECT_EQ(r[2].user, "bob");
  EXPECT_TRUE(r[2].suppressed.empty());
  EXPECT_EQ(r[3].user, "carol");

  double night = 1767222000;  // 2025-12-31T23:00:00Z
  r = stages::route_notification(alert_for("web01", "x", level::warning), dir, all, night);
  EXPECT_EQ(r[2].suppressed, reason::quiet_hours);
  r = stages::route_notification(alert_for("web01", "x", level::critical), dir, all, night);
  EXPECT_TRUE(r[2].suppressed.empty()) << "CRITICAL passes quiet hours";
  EXPECT_TRUE(r[1].suppressed.empty());

  r = stages::route_notification(alert_for("other", "x", level::critical), dir, all, noon);
  ASSERT_EQ(r.size(), 1u) << "a host nobody owns goes to admins only";
  EXPECT_EQ(r[0].user, "root");
  r = stages::route_notification(alert_for("web01", "x", level::critical), dir, {"mail"}, noon);
  ASSERT_EQ(r.size(), 2u) << "only usable channels count";
}

TEST(NotifyRateLimit, ABurstIsFoldedIntoOneDigestPerWindow) {
  stages::rate_limit rl(5, 60);
  int admitted = 0;
  for (int i = 0; i < 50; ++i)
    admitted += rl.admit("alice", alert_for("web01", "m" + std::to_string(i), level::warning), 100);
  EXPECT_EQ(admitted, 5);
  EXPECT_TRUE(rl.admit("bob", alert_for("web01", "x", level::warning), 100)) << "per user";
  EXPECT_TRUE(rl.due(159).empty());
  EXPECT_EQ(rl.next_due(), 160);
  auto d = rl.due(160);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].user, "alice");
  EXPECT_EQ(d[0].items.size(), 45u);
  EXPECT_TRUE(rl.due(1000).empty());
  EXPECT_TRUE(rl.admit("alice", alert_for("web01", "y", level::warning), 161)) << "a new window";

  auto [title, body] = stages::digest_text("alice", d[0].items, 60, 20);
  EXPECT_EQ(title, "DIGEST: 45 more notifications for alice in the last 60s");
  EXPECT_NE(body.find("WARNING: web01 - m5 = 1.0\n"), std::string::npos);
  EXPECT_NE(body.find("... and 25 more\n"), std::string::npos);
}

TEST(NotifyRetry, RecoverableErrorsBackOffExponentiallyFatalOnesStop) {
  stages::retry r(4, 1, 3);
  EXPECT_EQ(r.backoff(1), 1);
  EXPECT_EQ(r.backoff(2), 2);
  EXPECT_EQ(r.backoff(3), 3) << "capped at retry_max";
  stages::delivery d;
  d.channel = "hook";
  d.due = 10;
  r.add(d);
  EXPECT_TRUE(r.take_due(9).empty());
  auto due = r.take_due(10);
  ASSERT_EQ(due.size(), 1u);
  auto x = due[0];
  x.attempt = 1;
  EXPECT_EQ(r.after(x, send_status::retry("HTTP 500"), 10), stages::retry::verdict::retry_later);
  EXPECT_EQ(r.next_due(), 11);
  x = r.take_due(11).at(0);
  x.attempt = 2;
  EXPECT_EQ(r.after(x, send_status::retry("HTTP 500"), 11), stages::retry::verdict::retry_later);
  EXPECT_EQ(r.next_due(), 13);
  x = r.take_due(13).at(0);
  x.attempt = 3;
  EXPECT_EQ(r.after(x, send_status::success(), 13), stages::retry::verdict::done);
  EXPECT_EQ(r.size(), 0u);
  x.attempt = 1;
  EXPECT_EQ(r.after(x, send_status::fatal("HTTP 403"), 14), stages::retry::verdict::give_up);
  x.attempt = 4;
  EXPECT_EQ(r.after(x, send_status::retry("timeout"), 14), stages::retry::verdict::give_up)
      << "attempts exhausted";
}

TEST(NotifyFallback, ResendsOnUnusedChannelsAndAlertsOncePerInterval) {
  stages::fallback f(3600);
  stages::delivery d;
  d.user = "alice";
  d.channel = "hook";
  auto p = f.on_failure(d, {"mail", "hook", "push"}, {"hook", "push"}, 100);
  EXPECT_EQ(p.resend_on, std::vector<std::string>{"mail"});
  EXPECT_EQ(p.alert_on, (std::vector<std::string>{"mail", "push"}));
  EXPECT_TRUE(f.failing("hook"));
  p = f.on_failure(d, {"mail", "hook", "push"}, {"hook", "push"}, 200);
  EXPECT_EQ(p.resend_on, std::vector<std::string>{"mail"}) << "every message still gets through";
  EXPECT_TRUE(p.alert_on.empty()) << "one channel alert per interval";
  f.on_success("hook");
  EXPECT_FALSE(f.failing("hook"));
  p = f.on_failure(d, {"mail"}, {"hook"}, 300);
  EXPECT_EQ(p.alert_on, std::vector<std::string>{"mail"}) << "broken again after working";
  d.fallback_from = "push";
  p = f.on_failure(d, {"mail", "push"}, {"push"}, 5000);
  EXPECT_TRUE(p.resend_on.empty()) << "a fallback delivery does not fall back again";
}
