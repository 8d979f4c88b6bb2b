// Specification of the whole pipeline with recording channels: what reaches
// whom, what is journaled and counted, as time steps forward.
#include "heartbeat/notify/pipeline.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "heartbeat/config/yaml.hpp"

using namespace heartbeat;
using namespace heartbeat::notify;

namespace {

struct recorder {
  struct sent {
    std::string channel, user, title;
    bool digest;
  };
  std::vector<sent> sent_;
  std::map<std::string, std::deque<send_status>> script;  // per channel: answers, then success
  channel make(const std::string& name, const std::string& slug = "webhook") {
    return channel(name, slug, [this, name](const message& m) {
      auto& q = script[name];
      send_status s = send_status::success();
      if (!q.empty()) {
        s = q.front();
        if (q.size() > 1 || s.ok) q.pop_front();  // the last failure repeats forever
      }
      if (s.ok) sent_.push_back({name, m.user, m.title, m.digest});
      return s;
    });
  }
};

struct fixture {
  settings s;
  recorder rec;
  std::vector<journal_record> journal;
  std::unique_ptr<pipeline> p;
  fixture(const std::string& yaml, std::vector<std::string> chans) {
    config::diagnostics d;
    s = load_config(*config::parse_yaml(yaml), d);
    EXPECT_FALSE(d.has_errors());
    std::vector<channel> cs;
    for (auto& c : chans) cs.push_back(rec.make(c));
    p = std::make_unique<pipeline>(s, std::move(cs),
                                   [this](const journal_record& r) { journal.push_back(r); });
  }
  int count(outcome o, std::string_view why = {}) const {
    int n = 0;
    for (const auto& r : journal) n += r.outcome == o && (why.empty() || r.reason == why);
    return n;
  }
};

notification alert_for(const std::string& host, const std::string& path, level l = level::warning) {
  notification n;
  n.host = host;
  n.metric_path = path;
  n.level = n.severity = l;
  n.text = alert_text(host, path, "OK", to_string(l), 90);
  return n;
}

const char* two_hooks = R"(
notifiers:
  a: {type: webhook, url: "http://x"}
  b: {type: webhook, url: "http://y"}
hosts:
  quiet01: {watch: false}
maintenance:
  - {hosts: [db01], start: 100, end: 200}
notify: {retry_attempts: 3, retry_initial: 1, rate_limit_count: 5, rate_limit_window: 60}
)";

}  // namespace

TEST(NotifyPipeline, WithoutUsersEveryNotifierGetsItOnce) {
  fixture f(two_hooks, {"a", "b"});
  f.p->process(alert_for("web01", "cpu"), 10);
  f.p->tick(10);
  ASSERT_EQ(f.rec.sent_.size(), 2u);
  EXPECT_EQ(f.rec.sent_[0].title, "WARNING: web01 - cpu = 90.0");
  EXPECT_EQ(f.count(outcome::sent), 2);
  EXPECT_EQ(f.p->stats().get("a", outcome::sent), 1u);
  EXPECT_TRUE(f.p->idle());
}

TEST(NotifyPipeline, WatchMaintenanceAndDedupSuppressWithTheirReason) {
  fixture f(two_hooks, {"a", "b"});
  f.p->process(alert_for("quiet01", "cpu"), 10);
  f.p->process(alert_for("db01", "cpu"), 150);
  f.p->process(alert_for("web01", "cpu"), 150);
  f.p->process(alert_for("web01", "cpu"), 151);
  f.p->tick(151);
  EXPECT_EQ(f.count(outcome::suppressed, reason::watch), 1);
  EXPECT_EQ(f.count(outcome::suppressed, reason::maintenance), 1);
  EXPECT_EQ(f.count(outcome::suppressed, reason::dedup), 1);
  EXPECT_EQ(f.rec.sent_.size(), 2u);
  EXPECT_EQ(f.journal[0].host, "quiet01");
  EXPECT_EQ(f.journal[0].text, "WARNING: quiet01 - cpu = 90.0");
  EXPECT_EQ(f.p->stats().get("", outcome::suppressed, reason::maintenance), 1u);
  std::string prom = f.p->stats().prometheus();
  EXPECT_NE(
      prom.find(
          "heartbeat_notifications_total{channel=\"none\",result=\"suppressed\",reason=\"watch_false\"} 1"),
      std::string::npos)
      << prom;
  EXPECT_NE(prom.find("heartbeat_notifications_total{channel=\"a\",result=\"sent\"} 1"), std::string::npos)
      << prom;
}

TEST(NotifyPipeline, TwoServerErrorsThenSuccessDeliversOnceAfterBackoff) {
  fixture f(two_hooks, {"a"});
  f.rec.script["a"] = {send_status::retry("HTTP 500"), send_status::retry("HTTP 500"),
                       send_status::success()};
  f.p->process(alert_for("web01", "cpu"), 10);
  f.p->tick(10);
  EXPECT_EQ(f.rec.sent_.size(), 0u);
  EXPECT_EQ(f.p->next_due(), 11);
  f.p->tick(10.5);
  EXPECT_EQ(f.count(outcome::retried), 1);
  f.p->tick(11);
  EXPECT_EQ(f.count(outcome::retried), 2);
  EXPECT_EQ(f.p->next_due(), 13) << "1s, then 2s";
  f.p->tick(13);
  ASSERT_EQ(f.rec.sent_.size(), 1u);
  EXPECT_EQ(f.count(outcome::sent), 1);
  EXPECT_EQ(f.journal.back().attempt, 3);
  EXPECT_EQ(f.journal[0].error, "HTTP 500");
  EXPECT_TRUE(f.p->idle());
}

TEST(NotifyPipeline, AFailingChannelFallsBackAndRaisesAChannelAlert) {
  fixture f(R"(
notifiers:
  hook: {type: webhook, url: "http://x"}
  mail: {type: webhook, url: "http://y"}
users:
  alice: {notification_channels: [hook], fallback_channels: [mail]}
hosts:
  web01: {owner: alice}
notify: {retry_attempts: 2, retry_initial: 1}
)",
            {"hook", "mail"});
  f.rec.script["hook"] = {send_status::retry("HTTP 503")};
  f.p->process(alert_for("web01", "cpu", level::critical), 10);
  f.p->tick(10);
  f.p->tick(11);
  EXPECT_EQ(f.count(outcome::retried), 1);
  EXPECT_EQ(f.count(outcome::failed), 1);
  EXPECT_EQ(f.count(outcome::fell_back), 1);
  ASSERT_EQ(f.rec.sent_.size(), 2u);
  EXPECT_EQ(f.rec.sent_[0].channel, "mail");
  EXPECT_EQ(f.rec.sent_[0].title, "CRITICAL: web01 - cpu = 90.0");
  EXPECT_EQ(f.rec.sent_[0].user, "alice");
  EXPECT_EQ(f.rec.sent_[1].title, "NOTIFIER FAILED: hook (webhook) - HTTP 503");
  // A second failure still falls back, without a second channel alert.
  f.p->process(alert_for("web01", "mem", level::critical), 100);
  f.p->tick(100);
  f.p->tick(101);
  EXPECT_EQ(f.rec.sent_.size(), 3u);
  EXPECT_EQ(f.count(outcome::fell_back), 2);
  EXPECT_EQ(f.p->stats().get("hook", outcome::failed), 2u);
}

TEST(NotifyPipeline, UnrecoverableErrorsAreNotRetried) {
  fixture f(two_hooks, {"a", "b"});
  f.rec.script["a"] = {send_status::fatal("HTTP 401")};
  f.p->process(alert_for("web01", "cpu"), 10);
  f.p->tick(10);
  EXPECT_EQ(f.count(outcome::retried), 0);
  EXPECT_EQ(f.count(outcome::failed), 1);
  // Without users everyone already got it on b: only the channel alert goes to b.
  ASSERT_EQ(f.rec.sent_.size(), 2u);
  EXPECT_EQ(f.rec.sent_[1].title, "NOTIFIER FAILED: a (webhook) - HTTP 401");
}

TEST(NotifyPipeline, ABurstOfFiftyArrivesAsAHandfulPlusADigest) {
  fixture f(R"(
notifiers:
  hook: {type: webhook, url: "http://x"}
users:
  alice: {notification_channels: [hook]}
hosts:
  web01: {owner: alice}
notify: {rate_limit_count: 5, rate_limit_window: 60}
)",
            {"hook"});
  for (int i = 0; i < 50; ++i) f.p->process(alert_for("web01", "m" + std::to_string(i)), 100 + i * 0.01);
  f.p->tick(101);
  EXPECT_EQ(f.rec.sent_.size(), 5u);
  EXPECT_EQ(f.count(outcome::suppressed, reason::rate_limited), 45);
  EXPECT_FALSE(f.p->idle());
  EXPECT_EQ(f.p->next_due(), 160);
  f.p->tick(159);
  EXPECT_EQ(f.rec.sent_.size(), 5u);
  f.p->tick(160);
  ASSERT_EQ(f.rec.sent_.size(), 6u);
  EXPECT_TRUE(f.rec.sent_[5].digest);
  EXPECT_EQ(f.rec.sent_[5].title, "DIGEST: 45 more notifications for alice in the last 60s");
  EXPECT_TRUE(f.p->idle());
}

TEST(NotifyPipeline, UsersGetOnlyTheirHostsOnTheirChannels) {
  fixture f(R"(
notifiers:
  a: {type: webhook, url: "http://x"}
  b: {type: webhook, url: "http://y"}
users:
  alice: {notification_channels: [a]}
  bob: {notification_channels: [b], notification_level: CRITICAL}
hosts:
  web01: {owner: alice, managers: [bob]}
  db01: {owner: bob}
)",
            {"a", "b"});
  f.p->process(alert_for("web01", "cpu", level::warning), 10);
  f.p->process(alert_for("db01", "cpu", level::critical), 10);
  f.p->process(alert_for("nobody", "cpu", level::critical), 10);
  f.p->tick(10);
  ASSERT_EQ(f.rec.sent_.size(), 2u);
  EXPECT_EQ(f.rec.sent_[0].user, "alice");
  EXPECT_EQ(f.rec.sent_[0].channel, "a");
  EXPECT_EQ(f.rec.sent_[1].user, "bob");
  EXPECT_EQ(f.rec.sent_[1].title, "CRITICAL: db01 - cpu = 90.0");
  EXPECT_EQ(f.count(outcome::suppressed, reason::severity), 1);
  EXPECT_EQ(f.count(outcome::suppressed, reason::no_recipient), 1);
  // The API moves web01 to bob alone.
  f.p->dir().set_host("web01", host_access{true, "bob", {}, {}});
  f.p->process(alert_for("web01", "mem", level::critical), 20);
  f.p->tick(20);
  EXPECT_EQ(f.rec.sent_.back().user, "bob");
}

TEST(NotifyPipeline, UsersAddedOrRemovedThroughTheApiAreRoutedAtOnce) {
  fixture f(R"(
notifiers:
  a: {type: webhook, url: "http://x"}
users:
  alice: {notification_channels: [a]}
hosts:
  web01: {owner: alice}
)",
            {"a"});
  user_settings root;
  root.name = "root";
  root.admin = true;
  root.channels = {"a"};
  f.p->dir().set_user(root);
  f.p->process(alert_for("db01", "cpu", level::critical), 10);
  f.p->tick(10);
  ASSERT_EQ(f.rec.sent_.size(), 1u);
  EXPECT_EQ(f.rec.sent_[0].user, "root");
  f.p->dir().remove_user("root");
  f.p->process(alert_for("db01", "mem", level::critical), 20);
  f.p->tick(20);
  EXPECT_EQ(f.rec.sent_.size(), 1u);
  EXPECT_EQ(f.count(outcome::suppressed, reason::no_recipient), 1);
}
