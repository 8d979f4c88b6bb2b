// The store's event log: rows written in the writer's batches, queried on the reader thread
// by host, metric, kind, result and time, newest first, limited after role filtering; pruned by
// history_retention and removed with their host.
#include <gtest/gtest.h>

#include <future>

#include "heartbeat/server/store.hpp"

#include "../temp_dir.hpp"
#include "../wait_for.hpp"

using namespace heartbeat;
using namespace heartbeat::server;

namespace {

event_row row(double ts, std::string host, std::string metric, std::string kind, std::string result,
              std::string reason) {
  event_row e{ts, host, metric, kind, result, reason, {}};
  e.json = json::value::object({{"time", ts},
                                {"host", host},
                                {"metric_path", metric},
                                {"kind", kind},
                                {"result", result},
                                {"reason", reason}})
               .dump();
  return e;
}

// Runs a query synchronously (no post function: the callback runs on the reader thread).
json::value ask(store& s, event_query q) {
  std::promise<result<json::value>> p;
  s.query_events(std::move(q), [&](result<json::value> r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().message);
  return r.ok() ? *r : json::value::object();
}

std::vector<std::string> reasons(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& e : v.find("events")->as_array()) out.push_back(e.string_or("reason", ""));
  return out;
}

}  // namespace

TEST(StoreEvents, FiltersNewestFirstAndLimits) {
  hbtest::temp_dir d;
  const double T = clock::wall_now() - 100;
  store s({.path = (d.path / "hbd.sqlite").string()});
  ASSERT_TRUE(s.load().ok());
  ASSERT_TRUE(s.start().ok());
  s.put_event(
      row(T + 1, "db01", "cpu", "alert", "suppressed", "raised: 95.0 > 90.0; suppressed: maintenance m"));
  s.put_event(row(T + 2, "web01", "cpu", "alert", "notify", "raised: 91.0 > 90.0"));
  s.put_event(row(T + 3, "web01", "cpu", "alert", "sent", ""));
  s.put_event(row(T + 4, "web01", "", "host_down", "suppressed", "rate-limited"));
  s.put_event(row(T + 5, "", "", "partition", "partition", "100 of 200 silent"));
  ASSERT_TRUE(s.flush());

  auto all = ask(s, {});
  EXPECT_EQ(all.find("count")->as_number(), 5);
  EXPECT_EQ(reasons(all),
            (std::vector<std::string>{"100 of 200 silent", "rate-limited", "", "raised: 91.0 > 90.0",
                                      "raised: 95.0 > 90.0; suppressed: maintenance m"}));
  EXPECT_GT(all.find("events")->as_array()[0].number_or("id", 0), 0);
  EXPECT_EQ(reasons(ask(s, {.host = "web01", .metric = "cpu"})),
            (std::vector<std::string>{"", "raised: 91.0 > 90.0"}));
  EXPECT_EQ(reasons(ask(s, {.result = "suppressed"})),
            (std::vector<std::string>{"rate-limited", "raised: 95.0 > 90.0; suppressed: maintenance m"}));
  EXPECT_EQ(reasons(ask(s, {.kind = "partition"})), (std::vector<std::string>{"100 of 200 silent"}));
  EXPECT_EQ(reasons(ask(s, {.since = T + 2, .until = T + 3})),
            (std::vector<std::string>{"", "raised: 91.0 > 90.0"}));
  EXPECT_EQ(reasons(ask(s, {.limit = 2})), (std::vector<std::string>{"100 of 200 silent", "rate-limited"}));
  // Role filtering: only the visible hosts' rows, none without a host; the limit counts what is shown.
  event_query mine;
  mine.visible = std::make_shared<std::unordered_set<std::string>>(std::unordered_set<std::string>{"db01"});
  mine.limit = 1;
  EXPECT_EQ(reasons(ask(s, mine)),
            (std::vector<std::string>{"raised: 95.0 > 90.0; suppressed: maintenance m"}));
  s.stop();
}

TEST(StoreEvents, PrunedByRetentionAndDroppedWithTheirHost) {
  hbtest::temp_dir d;
  const double now = 1'800'000'000;
  store s({.path = (d.path / "hbd.sqlite").string(), .history_retention = 3600});
  s.set_prune_clock([&] { return now; });
  ASSERT_TRUE(s.load().ok());
  ASSERT_TRUE(s.start().ok());
  s.put_event(row(now - 7200, "a", "", "host_down", "sent", "old"));
  s.put_event(row(now - 60, "a", "", "host_down", "sent", "new"));
  s.put_event(row(now - 60, "b", "", "host_down", "sent", "other host"));
  ASSERT_TRUE(s.flush());
  s.stop();
  store t({.path = (d.path / "hbd.sqlite").string(), .history_retention = 3600});
  t.set_prune_clock([&] { return now; });
  ASSERT_TRUE(t.load().ok());
  ASSERT_TRUE(t.start().ok());  // prunes at start
  ASSERT_TRUE(hbtest::wait_for([&] { return reasons(ask(t, {})).size() == 2; }));
  t.drop_host("b", now);
  ASSERT_TRUE(t.flush());
  EXPECT_EQ(reasons(ask(t, {})), (std::vector<std::string>{"new"}));
  t.stop();
}
