// Specification of notify::load_config: notifiers by type, users' notification
// settings, pushsrv, the pipeline policy; every problem named by its key path.
#include "heartbeat/notify/settings.hpp"

#include <gtest/gtest.h>

#include "heartbeat/config/yaml.hpp"

using namespace heartbeat;

namespace {

notify::settings load(const std::string& yaml, config::diagnostics& d) {
  auto tree = config::parse_yaml(yaml);
  EXPECT_TRUE(tree);
  return notify::load_config(*tree, d);
}

std::string errors(const config::diagnostics& d) {
  std::string out;
  for (const auto& i : d.items) out += (i.is_error ? "E " : "W ") + i.text() + "\n";
  return out;
}

}  // namespace

TEST(NotifyConfig, ReadsEveryNotifierType) {
  config::diagnostics d;
  auto s = load(R"(
notifiers:
  mail: {type: email, smtp_host: mx.example.com, smtp_tls: none, from: hb@example.com, to: [ops@example.com]}
  push: {type: pushover, token: t0k3n, user: u53r}
  mm: {type: mattermost, url: "https://mm.example.com/hooks/x", channel: ops}
  sig: {type: signal, url: "http://127.0.0.1:8080", number: "+1555", recipients: ["+1666"]}
  hook: {type: webhook, url: "http://127.0.0.1:9/x", secret: s3cr3t, headers: {X-Team: ops}}
notify: {rate_limit_count: 3, rate_limit_window: 2m, retry_initial: 0.5}
)",
                d);
  EXPECT_FALSE(d.has_errors()) << errors(d);
  ASSERT_EQ(s.notifiers.size(), 5u);
  EXPECT_EQ(s.notifiers[0].name, "mail");
  EXPECT_EQ(s.notifiers[0].type, "email");
  EXPECT_EQ(s.notifiers[4].type, "webhook");
  EXPECT_EQ(s.policy.rate_limit_count, 3);
  EXPECT_EQ(s.policy.rate_limit_window, 120);
  EXPECT_EQ(s.policy.retry_initial, 0.5);
}

TEST(NotifyConfig, NamesTheKeyPathOfEveryError) {
  config::diagnostics d;
  auto s = load(R"(
notifiers:
  mail: {type: email, smtp_tls: ssl, from: hb@example.com, smtp_port: 0}
  what: {type: sms}
  hook: {type: webhook, url: "http://x", headers: {A: [1]}, colour: red}
users:
  alice:
    notification_channels: [mail, nosuch]
    notification_level: LOUD
    quiet_hours: {start: "25:00", end: "07:00"}
    notification_settings: {email: {to: 3}}
notify: {retry_attempts: 0}
pushsrv: carrier-pigeon
)",
                d);
  std::string e = errors(d);
  EXPECT_NE(e.find("E notifiers.mail.smtp_host: is required"), std::string::npos) << e;
  EXPECT_NE(e.find("E notifiers.mail.smtp_tls: must be one of starttls tls none (got \"ssl\")"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("E notifiers.mail.smtp_port:"), std::string::npos) << e;
  EXPECT_NE(e.find("E notifiers.what.type: must be one of"), std::string::npos) << e;
  EXPECT_NE(e.find("E notifiers.hook.headers.A: must be a string"), std::string::npos) << e;
  EXPECT_NE(e.find("W notifiers.hook.colour: unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("E users.alice.notification_channels.1: no notifier named \"nosuch\""), std::string::npos)
      << e;
  EXPECT_EQ(e.find("notification_channels.0"), std::string::npos) << "mail exists (though invalid)\n" << e;
  EXPECT_NE(e.find("E users.alice.notification_level:"), std::string::npos) << e;
  EXPECT_NE(e.find("E users.alice.quiet_hours.start:"), std::string::npos) << e;
  EXPECT_NE(e.find("E users.alice.notification_settings.email.to: must be a list of strings"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("E notify.retry_attempts:"), std::string::npos) << e;
  EXPECT_NE(e.find("E pushsrv: must be one of pushover mattermost all"), std::string::npos) << e;
  EXPECT_TRUE(s.notifiers.empty());
}

TEST(NotifyConfig, PushsrvSwitchesOffTheOtherPushService) {
  config::diagnostics d;
  auto s = load(R"(
pushsrv: pushover
notifiers:
  push: {type: pushover, token: t, user: u}
  mm: {type: mattermost, url: "http://x"}
  mail: {type: email, smtp_host: h, from: f@x}
)",
                d);
  EXPECT_FALSE(d.has_errors()) << errors(d);
  ASSERT_EQ(s.notifiers.size(), 3u);
  EXPECT_TRUE(s.find_notifier("push")->enabled);
  EXPECT_FALSE(s.find_notifier("mm")->enabled);
  EXPECT_TRUE(s.find_notifier("mail")->enabled);

  config::diagnostics d2;
  load("pushsrv: mattermost\n", d2);
  EXPECT_NE(errors(d2).find("W pushsrv: selects mattermost but no notifier has type mattermost"),
            std::string::npos);
}

TEST(NotifyConfig, ReadsUsersHostsAndMaintenance) {
  config::diagnostics d;
  auto s = load(R"(
notifiers:
  mail: {type: email, smtp_host: h, from: f@x}
  hook: {type: webhook, url: "http://x"}
users:
  alice: {admin: true, notification_channels: [hook], fallback_channels: [mail],
          notification_level: CRITICAL,
          quiet_hours: {start: "22:00", end: "07:00", utc_offset: 1},
          notification_settings: {email: {to: [alice@example.com]}}}
  bob: {notification_channels: mail}
hosts:
  web01: {owner: bob, managers: [carol], watch: false}
maintenance:
  - {hosts: [db01], start: "2026-01-01T00:00:00Z", end: 1767229200}
)",
                d);
  EXPECT_FALSE(d.has_errors()) << errors(d);
  ASSERT_EQ(s.users.size(), 2u);
  const auto& a = s.users[0];
  EXPECT_TRUE(a.admin);
  EXPECT_EQ(a.channels, std::vector<std::string>{"hook"});
  EXPECT_EQ(a.fallback_channels, std::vector<std::string>{"mail"});
  EXPECT_EQ(a.min_level, notify::level::critical);
  EXPECT_TRUE(a.quiet.enabled);
  EXPECT_EQ(a.quiet.start_minute, 22 * 60);
  // 21:30 UTC is 22:30 at UTC+1: quiet. 06:30 UTC is 07:30: not.
  EXPECT_TRUE(a.quiet.covers(1767216600));   // 2025-12-31T21:30:00Z
  EXPECT_FALSE(a.quiet.covers(1767249000));  // 2026-01-01T06:30:00Z
  ASSERT_NE(a.settings_for("email"), nullptr);
  EXPECT_EQ(s.users[1].channels, std::vector<std::string>{"mail"});
  ASSERT_EQ(s.hosts.size(), 1u);
  EXPECT_FALSE(s.hosts[0].second.watch);
  EXPECT_EQ(s.hosts[0].second.owner, "bob");
  ASSERT_EQ(s.maintenance.size(), 1u);
  EXPECT_EQ(s.maintenance[0].start, 1767225600);
  EXPECT_TRUE(alert::window_covering(s.maintenance, "db01", 1767226000));
  EXPECT_FALSE(alert::window_covering(s.maintenance, "web01", 1767226000));
}

TEST(NotifyConfig, MaintenanceWindowsInTheAlertEnginesFormat) {
  config::diagnostics d;
  auto s = load(R"(
maintenance:
  - {name: upgrade, hosts: [db01], start: 1000, duration: 1h}
  - {name: all, hosts: ["*"], start: 5000, end: 6000}
  - {name: weekly, hosts: [web01], days: [sun], at: "03:00", duration: 2h}
)",
                d);
  ASSERT_EQ(s.maintenance.size(), 3u) << "recurring windows are read as the alert engine reads them";
  EXPECT_EQ(s.maintenance[0].end, 4600);
  EXPECT_TRUE(alert::window_covering(s.maintenance, "anything", 5500));
  // 2026-11-22 is a Sunday: 03:00-05:00 UTC covers web01 only.
  EXPECT_TRUE(alert::window_covering(s.maintenance, "web01", 1795316400 + 3600));
  EXPECT_FALSE(alert::window_covering(s.maintenance, "db01", 1795316400 + 3600));
  EXPECT_FALSE(alert::window_covering(s.maintenance, "web01", 1795316400 + 3 * 3600));
}
