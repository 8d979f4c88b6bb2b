// Display templates with every variable of docs/ALERTING.md, the JSON shapes of the
// alerts endpoints and state export/restore across a restart.
#include "heartbeat/alert/template.hpp"

#include <gmock/gmock.h>

#include "heartbeat/alert/engine.hpp"
#include "table.hpp"

using namespace hb_alert_test;
using heartbeat::alert::display_template;
using heartbeat::alert::engine;

TEST(AlertTemplate, AllVariables) {
  auto t = display_template::compile(
      "{value} {threshold_value:.1f} {op_symbol} {check_name} {metric_name} {output} {status} {total_mb} "
      "{{x}}",
      true);
  ASSERT_TRUE(t.ok()) << t.err().message;
  heartbeat::alert::render_context c;
  c.value = 85.5;
  c.threshold = 80;
  c.check_name = "check_x";
  c.metric_name = "check_x_status_code";
  c.output = "out";
  c.status = "WARNING";
  std::string s = t->render(c, [](std::string_view f, std::string& v) {
    if (f != "total_mb") return false;
    v = "16384";
    return true;
  });
  EXPECT_EQ(s, "85.5 80.0 > check_x check_x_status_code out WARNING 16384 {x}");
}

TEST(AlertTemplate, Errors) {
  EXPECT_EQ(display_template::compile("{value", true).err().code, "bad_template");
  EXPECT_EQ(display_template::compile("value}", true).err().code, "bad_template");
  EXPECT_EQ(display_template::compile("{}", true).err().code, "unknown_variable");
  EXPECT_EQ(display_template::compile("{threshold}", true).err().code, "unknown_variable");
  EXPECT_EQ(display_template::compile("{a b}", true).err().code, "unknown_variable");
  EXPECT_EQ(display_template::compile("{value:x}", true).err().code, "bad_template");
  EXPECT_TRUE(display_template::compile("{data.values}", true).ok());  // explicit plugin field
}

TEST(AlertTemplate, DisplayInNotifications) {
  engine e(compile(R"cfg(
threshold_renotify_interval: 100
thresholds:
  memory_monitor:
    percent: {warning: 85, display: "(threshold: {op_symbol} {threshold_value}%, total {total_mb} MB)"}
)cfg"));
  std::vector<heartbeat::protocol::leaf> leaves{number_leaf("percent", 88), number_leaf("total_mb", 16384)};
  std::vector<heartbeat::alert::transition> out;
  e.evaluate_plugin("h", "memory_monitor", leaves, 0, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "WARNING: h - memory_monitor.percent = 88.0");
  EXPECT_EQ(out[0].display, "(threshold: > 85.0%, total 16384.0 MB)");
  out.clear();
  e.tick(100, out);  // reminders reuse the fields captured at the transition
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(
      describe(out[0]),
      "notify: REMINDER (WARNING): h - memory_monitor.percent = 88.0 (ongoing for 100s) (threshold: > 85.0%, "
      "total 16384.0 MB)");
}

TEST(AlertJson, EndpointShapes) {
  engine e(compile(R"(
thresholds:
  cpu_monitor: {cpu_percent: {warning: 80, critical: 90}}
  disk_monitor: {partitions: {/: {percent: {warning: 80, critical: 90}}}}
  memory_monitor: {percent: {warning: 85, critical: 95}}
)"));
  run_table(e, "webserver01", "cpu_monitor.cpu_percent",
            {{1711234000, 85.5, {"notify: WARNING: webserver01 - cpu_monitor.cpu_percent = 85.5"}}});
  run_table(e, "webserver01", "disk_monitor.partitions./.percent", {{1711230000, 65, {}}});
  run_table(e, "database01", "memory_monitor.percent",
            {{1711233000, 96, {"notify: CRITICAL: database01 - memory_monitor.percent = 96.0"}}});
  auto h = e.host_alerts_json("webserver01");
  EXPECT_EQ(h.find("hostname")->as_string(), "webserver01");
  const auto& alerts = h.find("alerts")->as_array();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].find("metric_path")->as_string(), "cpu_monitor.cpu_percent");
  EXPECT_EQ(alerts[0].find("level")->as_string(), "WARNING");
  EXPECT_EQ(alerts[0].find("since")->as_number(), 1711234000);
  EXPECT_EQ(alerts[0].find("last_value")->as_number(), 85.5);
  EXPECT_EQ(alerts[0].find("last_check")->as_number(), 1711234000);
  EXPECT_EQ(alerts[0].find("notification_count")->as_number(), 1);
  EXPECT_EQ(alerts[1].find("level")->as_string(), "OK");
  EXPECT_EQ(alerts[1].find("notification_count")->as_number(), 0);
  EXPECT_EQ(h.find("summary")->dump(), R"({"ok":1,"warning":1,"critical":0,"unknown":0})");

  auto all = e.alerts_json(5);
  const auto& list = all.find("alerts")->as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].find("hostname")->as_string(), "database01");  // CRITICAL first
  EXPECT_EQ(list[0].find("level")->as_string(), "CRITICAL");
  EXPECT_EQ(list[1].find("hostname")->as_string(), "webserver01");
  EXPECT_EQ(all.find("summary")->dump(), R"({"critical":1,"warning":1,"unknown":0,"total":2})");
  EXPECT_EQ(all.find("host_count")->as_number(), 5);
  auto mine = e.alerts_json(1, [](std::string_view h) { return h == "webserver01"; });
  EXPECT_EQ(mine.find("alerts")->size(), 1u);
  EXPECT_EQ(e.host_alerts_json("nobody").find("alerts")->size(), 0u);
}

TEST(AlertJson, TransitionEvent) {
  engine e(compile("thresholds: {p: {x: {warning: 80}}}"));
  std::vector<heartbeat::alert::transition> all;
  run_table(e, "h", "p.x", {{7, 85, {"notify: WARNING: h - p.x = 85.0"}}}, &all);
  auto j = heartbeat::alert::to_json(all[0]);
  EXPECT_EQ(j.find("hostname")->as_string(), "h");
  EXPECT_EQ(j.find("level")->as_string(), "WARNING");
  EXPECT_EQ(j.find("from")->as_string(), "OK");
  EXPECT_EQ(j.find("to")->as_string(), "WARNING");
  EXPECT_EQ(j.find("text")->as_string(), "WARNING: h - p.x = 85.0");
  EXPECT_EQ(j.find("reason")->as_string(), "raised: 85.0 > 80.0");
  EXPECT_EQ(j.find("threshold")->as_number(), 80);
  EXPECT_TRUE(j.find("notify")->as_bool());
}

// States survive a restart: export, new engine, restore, and the alert continues
// (no second WARNING; the recovery names the restored level; reminders resume).
TEST(AlertJson, ExportRestore) {
  const char* cfg = R"(
threshold_renotify_interval: 1000
thresholds:
  p: {x: {warning: 80}}
  nagios_runner: {status_code: {operator: nagios, display: "{check_name}: {output}"}}
  rtt: {h: {warning: 100}}
)";
  engine a(compile(cfg));
  run_table(a, "h", "p.x", {{0, 85, {"notify: WARNING: h - p.x = 85.0"}}});
  run_table(a, "h", "rtt", {{0, 150, {"notify: WARNING: h - rtt.h = 150.0"}}});
  std::vector<heartbeat::protocol::leaf> leaves{number_leaf("check_ssh_status_code", 2),
                                                text_leaf("check_ssh_output", "SSH CRITICAL")};
  std::vector<heartbeat::alert::transition> out;
  a.evaluate_plugin("h", "nagios_runner", leaves, 0, out);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(a.ack("h", "p.x", "bob", 5).ok());
  std::string saved = a.export_state().dump();

  engine b(compile(cfg));
  auto n = b.restore_state(heartbeat::json::parse(saved).value());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);
  EXPECT_TRUE(b.find("h", "p.x")->acknowledged);
  run_table(b, "h", "p.x", {{10, 86, {}}, {20, 10, {"notify: RECOVERED: h - p.x = 10.0 (WARNING -> OK)"}}});
  run_table(
      b, "h", "rtt",
      {{30, 150, {}},
       {1000,
        std::nullopt,
        {"notify: REMINDER (WARNING): h - rtt.h = 150.0 (ongoing for 1000s)",
         "notify: REMINDER (CRITICAL): h - nagios_runner.check_ssh_status_code = 2.0 (ongoing for 1000s) "
         "check_ssh: SSH CRITICAL"}}});
  // Unknown JSON is refused and changes nothing.
  EXPECT_FALSE(b.restore_state(heartbeat::json::value("nope")).ok());
}

// A reload keeps states whose metric still has a rule and drops the others.
TEST(AlertJson, ReloadRebinds) {
  engine e(compile("thresholds: {p: {x: {warning: 80}, y: {warning: 80}}}"));
  run_table(e, "h", "p.x", {{0, 85, {"notify: WARNING: h - p.x = 85.0"}}});
  run_table(e, "h", "p.y", {{0, 85, {"notify: WARNING: h - p.y = 85.0"}}});
  e.set_rules(compile("thresholds: {p: {x: {warning: 90, critical: 95}}}"));
  EXPECT_EQ(e.find("h", "p.y"), nullptr);
  ASSERT_NE(e.find("h", "p.x"), nullptr);
  run_table(e, "h", "p.x", {{1, 96, {"notify: CRITICAL: h - p.x = 96.0"}}, {2, 99, {}}});
  run_table(e, "h", "p.y", {{3, 99, {}}});
}
