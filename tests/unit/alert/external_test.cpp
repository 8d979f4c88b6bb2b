// Levels decided outside the engine (active checks): set_external's texts and notify decisions,
// maintenance and watch, acknowledgement and reminders, and that such states survive a rules
// reload and a restore without any threshold rule.
#include "heartbeat/alert/engine.hpp"

#include <gtest/gtest.h>

#include "table.hpp"

using namespace hb_alert_test;
using heartbeat::alert::engine;
using heartbeat::alert::level;
using heartbeat::alert::transition;

namespace {

const char* subject_fail = "shop - shop-front: HTTP 503 from https://shop.example.com/health";

}  // namespace

TEST(AlertExternal, RaiseAndRecoverWithTheirOwnWords) {
  engine eng(compile("threshold_renotify_interval: 0\n"));
  std::vector<transition> out;
  eng.set_external("web01", "check.shop-front", level::ok, 0, "shop - shop-front", "check passed", 100, out);
  EXPECT_TRUE(out.empty());  // OK from the start: nothing to say
  eng.set_external("web01", "check.shop-front", level::critical, 1, subject_fail, "check failed: HTTP 503",
                   110, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, std::string("CRITICAL: ") + subject_fail);
  EXPECT_TRUE(out[0].notify);
  EXPECT_EQ(out[0].reason, "check failed: HTTP 503");
  EXPECT_EQ(out[0].metric_path, "check.shop-front");
  out.clear();
  // Still failing: no new transition, but the state follows (last_check, value, words).
  eng.set_external("web01", "check.shop-front", level::critical, 2, subject_fail, "check failed", 120, out);
  EXPECT_TRUE(out.empty());
  const auto* st = eng.find("web01", "check.shop-front");
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->m.last_check, 120);
  EXPECT_EQ(st->m.last_value, 2);
  eng.set_external("web01", "check.shop-front", level::ok, 0, "shop - shop-front", "check passed", 130, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "RECOVERED: shop - shop-front (CRITICAL -> OK)");
  EXPECT_TRUE(out[0].notify);
  auto alerts = eng.alerts_json(1);
  EXPECT_EQ(alerts.find("alerts")->size(), 0u);
}

TEST(AlertExternal, MaintenanceWatchAckAndReminders) {
  engine eng(compile(R"(
threshold_renotify_interval: 60
hosts: {quiet: {watch: false}}
maintenance: [{name: upgrade, hosts: [db01], start: 0, duration: 1000}]
)"));
  std::vector<transition> out;
  eng.set_external("db01", "check.db", level::critical, 1,
                   "db01 - db: connect to db01:5432: connection refused", "check failed", 100, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].notify);
  EXPECT_NE(out[0].reason.find("suppressed: maintenance upgrade"), std::string::npos);
  out.clear();
  eng.set_external("quiet", "check.q", level::warning, 1, "q: slow", "check failed", 100, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].notify);
  out.clear();
  // The window ends: what was held back is sent.
  eng.tick(1001, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "CRITICAL: db01 - db: connect to db01:5432: connection refused");
  EXPECT_TRUE(out[0].notify);
  out.clear();
  // Reminders use the check's words.
  eng.tick(1062, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text,
            "REMINDER (CRITICAL): db01 - db: connect to db01:5432: connection refused (ongoing for 962s)");
  out.clear();
  // Acknowledged: reminders stop.
  auto t = eng.ack("db01", "check.db", "alice", 1070);
  ASSERT_TRUE(t.ok());
  eng.tick(1200, out);
  EXPECT_TRUE(out.empty());
}

TEST(AlertExternal, SurviveReloadAndRestoreWithoutRules) {
  engine eng(compile("thresholds: {cpu: {p: {warning: 80}}}\n"));
  std::vector<transition> out;
  eng.set_external("gateway", "check.gateway", level::critical, 3, "gateway: no reply", "check failed", 100,
                   out);
  eng.set_rules(compile("thresholds: {}\n"));  // no rule at all now
  ASSERT_NE(eng.find("gateway", "check.gateway"), nullptr);
  EXPECT_EQ(eng.alerts_json(0).find("alerts")->size(), 1u);

  engine fresh(compile("{}"));
  auto n = fresh.restore_state(eng.export_state());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  const auto* st = fresh.find("gateway", "check.gateway");
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->m.lvl, level::critical);
  out.clear();
  fresh.set_external("gateway", "check.gateway", level::ok, 0, "gateway", "check passed", 200, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "RECOVERED: gateway (CRITICAL -> OK)");

  fresh.forget("gateway", "check.gateway");
  EXPECT_EQ(fresh.find("gateway", "check.gateway"), nullptr);
}

TEST(AlertExternal, VisibilityByHostAndMetricPath) {
  engine eng(compile("{}"));
  std::vector<transition> out;
  eng.set_external("a", "check.a", level::critical, 1, "a: x", "", 1, out);
  eng.set_external("b", "check.b", level::critical, 1, "b: x", "", 1, out);
  auto v = eng.alerts_json(0, [](std::string_view, std::string_view path) { return path == "check.b"; });
  ASSERT_EQ(v.find("alerts")->size(), 1u);
  EXPECT_EQ(v.find("alerts")->as_array()[0].string_or("hostname", ""), "b");
}
