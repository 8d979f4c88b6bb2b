// Specification of notify::service: a bounded, non-blocking submit (a full
// queue is a counted, journaled drop), the worker thread, journal records
// posted to the caller's thread, /metrics text.
#include "heartbeat/notify/service.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "heartbeat/config/yaml.hpp"

#include "../wait_for.hpp"

using namespace heartbeat;
using namespace heartbeat::notify;

namespace {
settings load(const std::string& yaml) {
  config::diagnostics d;
  return load_config(*config::parse_yaml(yaml), d);
}
notification note(const std::string& path) {
  notification n;
  n.host = "web01";
  n.metric_path = path;
  n.text = "WARNING: web01 - " + path + " = 1.0";
  return n;
}
bool wait_idle(const service& s) {
  return hbtest::wait_for([&] { return s.idle(); });
}
}  // namespace

TEST(NotifyService, AFullQueueIsACountedJournaledDrop) {
  std::vector<journal_record> j;
  service svc(load("notify: {queue_size: 2}\nnotifiers: {a: {type: webhook, url: 'http://127.0.0.1:1/'}}\n"),
              [&](const journal_record& r) { j.push_back(r); });
  // Not started: nothing consumes the queue.
  int accepted = 0;
  while (accepted < 10 && svc.submit(note("n" + std::to_string(accepted)))) ++accepted;
  EXPECT_GE(accepted, 2) << "at least queue_size fit";
  EXPECT_LE(accepted, 4) << "the queue is bounded";
  EXPECT_EQ(svc.dropped(), 1u);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].outcome, outcome::dropped);
  EXPECT_EQ(j[0].reason, "queue full");
  EXPECT_EQ(j[0].text, "WARNING: web01 - n" + std::to_string(accepted) + " = 1.0");
  EXPECT_NE(svc.metrics_text().find("heartbeat_queue_dropped_total{queue=\"notify\"} 1\n"),
            std::string::npos);
  EXPECT_NE(
      svc.metrics_text().find("heartbeat_queue_depth{queue=\"notify\"} " + std::to_string(accepted) + "\n"),
      std::string::npos);
}

TEST(NotifyService, TheWorkerDeliversAndPostsJournalRecordsBack) {
  std::mutex m;
  std::vector<std::string> sent;
  std::vector<std::function<void()>> posted;  // stands in for the io thread's queue
  std::vector<journal_record> j;
  auto s = load("notifiers: {a: {type: webhook, url: 'http://unused/'}}\n");
  std::vector<channel> chans{channel("a", "webhook", [&](const message& msg) {
    std::lock_guard lk(m);
    sent.push_back(msg.title);
    return send_status::success();
  })};
  service svc(
      s, [&](const journal_record& r) { j.push_back(r); },
      [&](std::function<void()> f) {
        std::lock_guard lk(m);
        posted.push_back(std::move(f));
      },
      std::move(chans));
  svc.start();
  bus::event e;
  e.kind = bus::event_kind::host;
  e.host = "web01";
  e.ts = 100;
  e.data = json::value::object({{"state", "DOWN"}});
  svc.sink()(e);
  ASSERT_TRUE(wait_idle(svc)) << "awaited the notifier idle; metrics:\n" << svc.metrics_text();
  svc.stop();
  std::lock_guard lk(m);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], "DOWN: web01");
  EXPECT_TRUE(j.empty()) << "records arrive through post only";
  for (auto& f : posted) f();
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].outcome, outcome::sent);
  EXPECT_EQ(j[0].channel, "a");
  EXPECT_NE(svc.metrics_text().find("heartbeat_notifications_total{channel=\"a\",result=\"sent\"} 1"),
            std::string::npos);
}

TEST(NotifyService, RegistryHostEventsCarryTheWatchFlagAndRoles) {
  std::mutex m;
  std::vector<std::string> sent;
  auto s = load(R"(
notifiers: {a: {type: webhook, url: 'http://unused/'}}
users: {alice: {notification_channels: [a]}, bob: {notification_channels: [a]}}
hosts: {web01: {owner: alice}}
)");
  std::vector<channel> chans{channel("a", "webhook", [&](const message& msg) {
    std::lock_guard lk(m);
    sent.push_back(msg.user + " " + msg.title);
    return send_status::success();
  })};
  std::vector<journal_record> j;
  std::mutex jm;
  service svc(
      s,
      [&](const journal_record& r) {
        std::lock_guard lk(jm);
        j.push_back(r);
      },
      {}, std::move(chans));
  svc.start();
  auto host = [](const char* owner, bool watch, const char* from, const char* to, double ts) {
    bus::event e;
    e.kind = bus::event_kind::host;
    e.host = "web01";
    e.ts = ts;
    e.data = json::value::object({{"name", "web01"},
                                  {"state", to},
                                  {"watch", watch},
                                  {"owner", owner},
                                  {"managers", json::value::array()},
                                  {"monitors", json::value::array()}});
    e.data.set("transition", json::value::object({{"from", from}, {"to", to}}));
    return e;
  };
  svc.on_event(host("bob", true, "UP", "DOWN", 100));  // the API gave web01 to bob
  ASSERT_TRUE(wait_idle(svc)) << "awaited the notifier idle; metrics:\n" << svc.metrics_text();
  svc.on_event(host("bob", false, "DOWN", "STOPPED", 200));  // and unwatched it
  svc.on_event(host("bob", false, "UP", "DOWN", 300));
  ASSERT_TRUE(wait_idle(svc)) << "awaited the notifier idle; metrics:\n" << svc.metrics_text();
  svc.stop();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], "bob DOWN: web01");
  std::lock_guard lk(jm);
  EXPECT_EQ(j.back().reason, "watch=false");
}

// Hosts with plain access (watched, the default owner, no managers or monitors) are held nowhere,
// yet route as before; roles the registry gave survive a reload (the new directory starts from the
// config, and what the registry said is handed to it again).
TEST(NotifyService, PlainHostsAreNotHeldAndRolesSurviveAReload) {
  std::mutex m;
  std::vector<std::string> sent;
  auto s = load(R"(
notifiers: {a: {type: webhook, url: 'http://unused/'}}
default_owner: alice
users: {alice: {notification_channels: [a]}, bob: {notification_channels: [a]}, carol: {notification_channels: [a]}}
hosts: {web01: {owner: carol}}
)");
  auto channels = [&] {
    return std::vector<channel>{channel("a", "webhook", [&](const message& msg) {
      std::lock_guard lk(m);
      sent.push_back(msg.user + " " + msg.title);
      return send_status::success();
    })};
  };
  service svc(s, {}, {}, channels());
  svc.start();
  auto host = [](const char* name, const char* owner, const char* from, const char* to, double ts) {
    bus::event e;
    e.kind = bus::event_kind::host;
    e.host = name;
    e.ts = ts;
    e.data = json::value::object({{"name", name},
                                  {"state", to},
                                  {"watch", true},
                                  {"owner", owner},
                                  {"managers", json::value::array()},
                                  {"monitors", json::value::array()}});
    json::value t = json::value::object({{"from", from}, {"to", to}});
    if (std::string_view(from) == "DOWN") t.set("down_for", 50.0);
    e.data.set("transition", std::move(t));
    return e;
  };
  auto last = [&] {
    std::lock_guard lk(m);
    return sent.empty() ? std::string() : sent.back();
  };
  svc.on_event(host("db01", "alice", "UP", "DOWN", 100));  // plain: routes to the default owner
  ASSERT_TRUE(wait_idle(svc));
  EXPECT_EQ(last(), "alice DOWN: db01");
  svc.on_event(host("db01", "bob", "DOWN", "UP", 200));  // the API gave db01 to bob
  ASSERT_TRUE(wait_idle(svc));
  svc.on_event(host("db01", "bob", "UP", "DOWN", 300));
  ASSERT_TRUE(wait_idle(svc));
  EXPECT_EQ(last(), "bob DOWN: db01");
  svc.reload(s);  // SIGHUP: bob keeps db01
  svc.on_event(host("db01", "bob", "DOWN", "UP", 400));
  svc.on_event(host("db01", "bob", "UP", "DOWN", 500));
  ASSERT_TRUE(wait_idle(svc));
  EXPECT_EQ(last(), "bob DOWN: db01");
  svc.on_event(host("db01", "alice", "DOWN", "UP", 600));  // back to plain
  svc.on_event(host("db01", "alice", "UP", "DOWN", 700));
  ASSERT_TRUE(wait_idle(svc));
  EXPECT_EQ(last(), "alice DOWN: db01");
  svc.on_event(host("web01", "alice", "UP", "DOWN", 800));  // a configured host made plain by the API
  ASSERT_TRUE(wait_idle(svc));
  EXPECT_EQ(last(), "alice DOWN: web01");
  svc.stop();
}

TEST(NotifyDirectory, HoldsOnlyHostsThatDoNotRouteLikePlainOnes) {
  auto s =
      load("default_owner: alice\nusers: {alice: {}, bob: {}}\nhosts: {web01: {owner: bob}, web02: {}}\n");
  directory d(s);
  EXPECT_EQ(d.held_hosts(), 1u) << "web02 is plain";
  d.set_host("db01", host_access{true, "alice", {}, {}});
  d.set_host("db02", host_access{false, "alice", {}, {}});
  d.set_host("db03", host_access{true, "", {"bob"}, {}});
  EXPECT_EQ(d.held_hosts(), 3u);
  d.set_host("web01", host_access{true, "alice", {}, {}});
  EXPECT_EQ(d.held_hosts(), 2u);
  EXPECT_TRUE(d.watched("db01"));
  EXPECT_FALSE(d.watched("db02"));
}
