// Specification of the notification texts (docs/NOTIFICATIONS.md's examples, word for word)
// and of the translation of registry events into notifications.
#include "heartbeat/notify/translate.hpp"

#include <gtest/gtest.h>

using namespace heartbeat;
using notify::kind;
using notify::level;

TEST(NotifyTexts, MatchTheSeedExamples) {
  EXPECT_EQ(notify::alert_text("webserver01", "rtt.webserver01", "OK", "WARNING", 125.3),
            "WARNING: webserver01 - rtt.webserver01 = 125.3");
  EXPECT_EQ(notify::alert_text("database01", "rtt.database01", "WARNING", "CRITICAL", 520.1),
            "CRITICAL: database01 - rtt.database01 = 520.1");
  EXPECT_EQ(notify::alert_text("webserver01", "rtt.webserver01", "WARNING", "OK", 45.2),
            "RECOVERED: webserver01 - rtt.webserver01 = 45.2 (WARNING -> OK)");
  EXPECT_EQ(notify::alert_text("webserver01", "cpu_monitor.cpu_percent", "OK", "WARNING", 85),
            "WARNING: webserver01 - cpu_monitor.cpu_percent = 85.0");
  EXPECT_EQ(notify::alert_text("database01", "disk_monitor./.percent", "WARNING", "OK", 75),
            "RECOVERED: database01 - disk_monitor./.percent = 75.0 (WARNING -> OK)");
  EXPECT_EQ(notify::reminder_text("mailserver", "cpu_monitor.load_1min", "CRITICAL", 12.5, 3600),
            "REMINDER (CRITICAL): mailserver - cpu_monitor.load_1min = 12.5 (ongoing for 3600s)");
  EXPECT_EQ(notify::down_text("web01", 75.4), "DOWN: web01 - no heartbeat for 75s");
  EXPECT_EQ(notify::up_text("web01", "DOWN", 120), "UP: web01 - was DOWN for 120s");
}

namespace {
bus::event host_event(const char* host, const char* state, double ts, double last_seen = 0) {
  bus::event e;
  e.kind = bus::event_kind::host;
  e.host = host;
  e.ts = ts;
  e.data = json::value::object({{"name", host}, {"state", state}});
  if (last_seen > 0) e.data.set("last_seen", last_seen);
  return e;
}
}  // namespace

TEST(NotifyTranslate, HostDownAndUpCarryDurations) {
  notify::event_translator t;
  EXPECT_FALSE(t.translate(host_event("web01", "UP", 1000)));
  auto down = t.translate(host_event("web01", "DOWN", 1100, 1010));
  ASSERT_TRUE(down);
  EXPECT_EQ(down->kind, kind::host_down);
  EXPECT_EQ(down->level, level::critical);
  EXPECT_EQ(down->text, "DOWN: web01 - no heartbeat for 90s");
  EXPECT_FALSE(t.translate(host_event("web01", "DOWN", 1150)));  // connection change, same state
  auto up = t.translate(host_event("web01", "UP", 1400));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->kind, kind::host_up);
  EXPECT_EQ(up->level, level::ok);
  EXPECT_EQ(up->severity, level::critical);
  EXPECT_EQ(up->text, "UP: web01 - was DOWN for 300s");
}

TEST(NotifyTranslate, ADownShorterThanFourSecondsSendsNoRecovery) {
  notify::event_translator t;
  t.translate(host_event("web01", "UP", 1000));
  EXPECT_TRUE(t.translate(host_event("web01", "DOWN", 1100)));
  EXPECT_FALSE(t.translate(host_event("web01", "UP", 1103.5)));
  EXPECT_TRUE(t.translate(host_event("web01", "DOWN", 1200)));
  EXPECT_TRUE(t.translate(host_event("web01", "UP", 1204)));
}

TEST(NotifyTranslate, UnknownToDownNotifiesAndStoppedIsAnnounced) {
  notify::event_translator t;
  auto d = t.translate(host_event("db01", "DOWN", 500));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->text, "DOWN: db01");
  notify::event_translator t2;
  t2.translate(host_event("db01", "UP", 100));
  auto s = t2.translate(host_event("db01", "STOPPED", 200));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, kind::host_stopped);
  EXPECT_EQ(s->text, "STOPPED: db01 - the client announced its shutdown");
  auto up = t2.translate(host_event("db01", "UP", 260));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->text, "UP: db01 - was STOPPED for 60s");
}

TEST(NotifyTranslate, AlertTransitionsKeepTheEnginesText) {
  notify::event_translator t;
  bus::event e;
  e.kind = bus::event_kind::alert;
  e.host = "web01";
  e.ts = 2000;
  e.data = json::value::object({{"hostname", "web01"},
                                {"metric_path", "nagios_runner.check_disk_root_status_code"},
                                {"level", "CRITICAL"},
                                {"last_value", 2},
                                {"from", "OK"},
                                {"to", "CRITICAL"},
                                {"reason", "threshold"},
                                {"text", "check_disk_root: DISK CRITICAL - 97% used"}});
  auto n = t.translate(e);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->kind, kind::alert);
  EXPECT_EQ(n->level, level::critical);
  EXPECT_EQ(n->text, "check_disk_root: DISK CRITICAL - 97% used");  // a display template, as rendered
  EXPECT_EQ(n->metric_path, "nagios_runner.check_disk_root_status_code");
  EXPECT_EQ(n->value, 2);

  e.data = json::value::object({{"hostname", "web01"},
                                {"metric_path", "cpu_monitor.cpu_percent"},
                                {"last_value", 40.0},
                                {"from", "WARNING"},
                                {"to", "OK"}});
  n = t.translate(e);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->text, "RECOVERED: web01 - cpu_monitor.cpu_percent = 40.0 (WARNING -> OK)");
  EXPECT_EQ(n->severity, level::warning);

  e.data = json::value::object({{"hostname", "web01"},
                                {"metric_path", "cpu_monitor.load_1min"},
                                {"last_value", 12.5},
                                {"from", "CRITICAL"},
                                {"to", "CRITICAL"},
                                {"reason", "reminder"},
                                {"since", 1000}});
  n = t.translate(e);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->kind, kind::reminder);
  EXPECT_EQ(n->text, "REMINDER (CRITICAL): web01 - cpu_monitor.load_1min = 12.5 (ongoing for 1000s)");

  e.data.set("notify", false);
  EXPECT_FALSE(t.translate(e));
}

TEST(NotifyTranslate, RegistryHostEventsNotifyOnlyOnTransitions) {
  notify::event_translator t;
  auto ev = [](const char* state, double ts, json::value transition) {
    bus::event e;
    e.kind = bus::event_kind::host;
    e.host = "web01";
    e.ts = ts;
    e.data =
        json::value::object({{"name", "web01"}, {"state", state}, {"watch", true}, {"last_seen", 1000.0}});
    if (!transition.is_null()) e.data.set("transition", std::move(transition));
    return e;
  };
  EXPECT_FALSE(t.translate(ev("DOWN", 900, json::value())));  // a restored or refreshed host: no transition
  EXPECT_FALSE(t.translate(ev("UP", 1000, json::value::object({{"from", "UNKNOWN"}, {"to", "UP"}}))));
  auto d =
      t.translate(ev("DOWN", 1090, json::value::object({{"from", "UP"}, {"to", "DOWN"}, {"notify", true}})));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->text, "DOWN: web01 - no heartbeat for 90s");
  auto up =
      t.translate(ev("UP", 1200, json::value::object({{"from", "DOWN"}, {"to", "UP"}, {"down_for", 110.0}})));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->text, "UP: web01 - was DOWN for 110s");
  EXPECT_FALSE(t.translate(ev("DOWN", 1300, json::value::object({{"from", "UP"}, {"to", "DOWN"}}))) ==
               std::nullopt);
  EXPECT_FALSE(
      t.translate(ev("UP", 1302, json::value::object({{"from", "DOWN"}, {"to", "UP"}, {"down_for", 2.0}}))));
}

TEST(NotifyTranslate, TheAlertEnginesEventShapeWithADisplayTemplate) {
  notify::event_translator t;
  bus::event e;
  e.kind = bus::event_kind::alert;
  e.host = "web01";
  e.ts = 5000;
  e.data = json::value::object({{"hostname", "web01"},
                                {"metric_path", "nagios_runner.check_disk_root_status_code"},
                                {"level", "CRITICAL"},
                                {"kind", "change"},
                                {"from", "OK"},
                                {"to", "CRITICAL"},
                                {"value", 2},
                                {"threshold", 2},
                                {"text", "CRITICAL: web01 - nagios_runner.check_disk_root_status_code = 2.0"},
                                {"display", "check_disk_root: DISK CRITICAL"},
                                {"notify", true},
                                {"alert_since", 5000}});
  auto n = t.translate(e);
  ASSERT_TRUE(n);
  EXPECT_EQ(
      n->text,
      "CRITICAL: web01 - nagios_runner.check_disk_root_status_code = 2.0 check_disk_root: DISK CRITICAL");
  EXPECT_EQ(n->threshold, 2);
  e.data.set("kind", "reminder");
  e.data.set("display", "");
  e.data.set(
      "text",
      "REMINDER (CRITICAL): web01 - nagios_runner.check_disk_root_status_code = 2.0 (ongoing for 3600s)");
  e.data.set("alert_since", 1400);
  n = t.translate(e);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->kind, kind::reminder);
  EXPECT_EQ(n->duration, 3600);
  e.data.set("kind", "acknowledged");
  EXPECT_FALSE(t.translate(e));
}
