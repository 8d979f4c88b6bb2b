// Store: round trip through load(), batching, history pruning and snapshot
// depth, history queries, host removal, and survival of a kill -9.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "heartbeat/server/store.hpp"

#include "../store_file.hpp"
#include "../wait_for.hpp"

namespace fs = std::filesystem;
using namespace heartbeat;
using namespace heartbeat::server;

namespace {

using Store = hbtest::store_file_test;

json::value host_json(const char* name, const char* state, const char* v4, double seen) {
  json::value conns = json::value::array();
  conns.push_back(json::value::object({{"family", "ipv4"},
                                       {"address", v4},
                                       {"port", 40000},
                                       {"state", state},
                                       {"last_seen", seen},
                                       {"seq", 7}}));
  conns.push_back(
      json::value::object({{"family", "ipv6"}, {"address", "::1"}, {"port", 40001}, {"state", state}}));
  return json::value::object({{"name", name},
                              {"state", state},
                              {"dyn", true},
                              {"last_seen", seen},
                              {"connections", std::move(conns)}});
}

// Timestamps near "now": the writer prunes history older than history_retention.
const double T = clock::wall_now() - 1000;

bus::event plugin_event(const char* host, const char* plugin, double ts, double value) {
  return bus::event{bus::event_kind::plugin, ts, host,
                    json::value::object({{"host", host},
                                         {"plugin", plugin},
                                         {"data", json::value::object({{"cpu_percent", value}})},
                                         {"timestamp", ts}})};
}

}  // namespace

TEST_F(Store, CreatesDirectoriesAndSchema) {
  store s({.path = (d.path / "a" / "b" / "hbd.sqlite").string()});
  auto snap = s.load();
  ASSERT_TRUE(snap.ok()) << snap.err().message;
  EXPECT_TRUE(snap->hosts.empty());
  EXPECT_TRUE(fs::exists(d.path / "a" / "b" / "hbd.sqlite"));
}

TEST_F(Store, RoundTripThroughLoad) {
  {
    store s({.path = path});
    ASSERT_TRUE(s.load().ok());
    ASSERT_TRUE(s.start().ok());
    auto sink = s.sink();
    sink(bus::event{bus::event_kind::host, 100, "web1", host_json("web1", "UP", "10.0.0.1", 100)});
    sink(bus::event{bus::event_kind::host, 101, "web1", host_json("web1", "DOWN", "10.0.0.2", 101)});
    sink(bus::event{bus::event_kind::host, 100, "db1", host_json("db1", "UP", "10.0.0.3", 100)});
    sink(plugin_event("web1", "cpu_monitor", T + 110, 10));
    sink(plugin_event("web1", "cpu_monitor", T + 120, 20));
    sink(plugin_event("web1", "memory_monitor", T + 115, 5));
    sink(bus::event{
        bus::event_kind::message, 130, "web1",
        json::value::object({{"time", 130}, {"host", "web1"}, {"msg", "boot"}, {"event", "boot"}})});
    sink(bus::event{
        bus::event_kind::alert, 140, "web1",
        json::value::object(
            {{"host", "web1"}, {"metric_path", "cpu_monitor.cpu_percent"}, {"level", "WARNING"}})});
    sink(bus::event{
        bus::event_kind::alert, 141, "web1",
        json::value::object(
            {{"host", "web1"}, {"metric_path", "cpu_monitor.cpu_percent"}, {"level", "CRITICAL"}})});
    sink(bus::event{bus::event_kind::command, T + 150, "web1",
                    json::value::object({{"id", "c-1"}, {"host", "web1"}, {"state", "queued"}})});
    sink(bus::event{bus::event_kind::command, T + 151, "web1",
                    json::value::object({{"id", "c-1"}, {"host", "web1"}, {"state", "done"}})});
    EXPECT_TRUE(s.put_state("alert_engine", "{\"x\":1}", 160));
    s.stop();
    EXPECT_EQ(s.stats().dropped, 0u);
    EXPECT_EQ(s.stats().errors, 0u);
  }
  store s({.path = path});
  auto snap = s.load();
  ASSERT_TRUE(snap.ok()) << snap.err().message;
  ASSERT_EQ(snap->hosts.size(), 2u);
  EXPECT_EQ(snap->hosts[0].name, "db1");
  const stored_host& web = snap->hosts[1];
  EXPECT_EQ(web.name, "web1");
  const json::value entry = web.entry();
  EXPECT_EQ(entry.string_or("state", ""), "DOWN");
  EXPECT_TRUE(entry.bool_or("dyn", false));
  const json::value* conns = entry.find("connections");
  ASSERT_TRUE(conns && conns->is_array());
  ASSERT_EQ(conns->size(), 2u);
  EXPECT_EQ(conns->as_array()[0].string_or("family", ""), "ipv4");
  EXPECT_EQ(conns->as_array()[0].string_or("address", ""), "10.0.0.2");
  EXPECT_EQ(conns->as_array()[0].number_or("seq", 0), 7);
  ASSERT_EQ(web.plugins.size(), 2u);
  EXPECT_EQ(web.plugins[0].name, "cpu_monitor");
  EXPECT_EQ(web.plugins[0].ts, T + 120);
  EXPECT_EQ(web.plugins[0].data_json, "{\"cpu_percent\":20}");
  ASSERT_EQ(web.plugins[0].history.size(), 2u);
  EXPECT_EQ(web.plugins[0].history[0].ts, T + 110);  // oldest first
  EXPECT_EQ(web.plugins[0].history[1].ts, T + 120);
  ASSERT_EQ(snap->alerts.size(), 1u);
  EXPECT_EQ(snap->alerts[0].string_or("level", ""), "CRITICAL");
  ASSERT_EQ(snap->commands.size(), 1u);
  EXPECT_EQ(snap->commands[0].string_or("state", ""), "done");
  ASSERT_EQ(snap->messages.size(), 1u);
  EXPECT_EQ(snap->messages[0].string_or("msg", ""), "boot");
  EXPECT_EQ(snap->state.at("alert_engine"), "{\"x\":1}");
}

TEST_F(Store, WritesInBatches) {
  store s({.path = path, .queue_capacity = 20000});
  ASSERT_TRUE(s.load().ok());
  ASSERT_TRUE(s.start().ok());
  const int n = 10000;
  for (int i = 0; i < n; ++i)
    ASSERT_TRUE(s.put_plugin("h" + std::to_string(i % 50), "cpu", 1000 + i, "{\"v\":1}"));
  ASSERT_TRUE(s.flush());
  auto st = s.stats();
  EXPECT_EQ(st.rows_written, static_cast<std::uint64_t>(n));
  EXPECT_LE(st.transactions,
            static_cast<std::uint64_t>(n / 100));  // at least 100 rows per transaction on average
  EXPECT_EQ(st.queue_depth, 0u);
}

TEST_F(Store, CommitsWithinTheIntervalWhenIdle) {
  store s({.path = path});
  ASSERT_TRUE(s.load().ok());
  ASSERT_TRUE(s.start().ok());
  auto t0 = std::chrono::steady_clock::now();
  s.put_host("a", host_json("a", "UP", "10.0.0.1", 1).dump(), 1);
  ASSERT_TRUE(hbtest::wait_for([&] { return s.stats().rows_written >= 1; }))
      << "awaited the idle writer's commit; rows_written " << s.stats().rows_written;
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::milliseconds(600)) << "the 200 ms commit interval of an idle writer";
  EXPECT_EQ(s.stats().rows_written, 1u);
  // A second connection (another process) sees it.
  store other({.path = path});
  auto snap = other.load();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->hosts.size(), 1u);
}

TEST_F(Store, PrunesHistoryByRetentionAndLoadsTheLastSamples) {
  const double now = 1'800'000'000;
  std::uint64_t pruned = 0;
  {
    store s({.path = path, .history_retention = 3600});
    s.set_prune_clock([&] { return now; });
    ASSERT_TRUE(s.load().ok());
    ASSERT_TRUE(s.start().ok());  // may prune before or after the rows below land
    for (int i = 0; i < 20; ++i)
      s.put_plugin("h", "cpu", now - 7200 + i, "{\"old\":" + std::to_string(i) + "}");
    for (int i = 0; i < 20; ++i)
      s.put_plugin("h", "cpu", now - 60 + i, "{\"new\":" + std::to_string(i) + "}");
    s.stop();
    pruned += s.stats().pruned;
  }
  {
    store s({.path = path, .history_retention = 3600});
    s.set_prune_clock([&] { return now; });
    ASSERT_TRUE(s.load().ok());
    ASSERT_TRUE(s.start().ok());  // the writer prunes when it starts
    ASSERT_TRUE(s.flush());
    // Whatever the first run did not prune, this one's start-up pruning removes.
    EXPECT_TRUE(hbtest::wait_for([&] { return pruned + s.stats().pruned >= 20; }))
        << "awaited the start-up pruning; pruned " << pruned << " + " << s.stats().pruned;
    s.stop();
    pruned += s.stats().pruned;
  }
  EXPECT_EQ(pruned, 20u);
  store s({.path = path, .history_samples = 5});
  auto snap = s.load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->hosts.size(), 1u);
  ASSERT_EQ(snap->hosts[0].plugins.size(), 1u);
  const auto& p = snap->hosts[0].plugins[0];
  EXPECT_EQ(p.data_json, "{\"new\":19}");
  ASSERT_EQ(p.history.size(), 5u);
  EXPECT_EQ(p.history.front().data_json, "{\"new\":15}");
  EXPECT_EQ(p.history.back().data_json, "{\"new\":19}");
}

TEST_F(Store, HistoryQueriesRunOffThreadAndPostBack) {
  store s({.path = path});
  ASSERT_TRUE(s.load().ok());
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::function<void()>> posted;
  ASSERT_TRUE(s.start([&](std::function<void()> f) {
                 std::lock_guard lk(m);
                 posted.push_back(std::move(f));
                 cv.notify_all();
               }).ok());
  for (int i = 0; i < 100; ++i) s.put_plugin("h", "cpu", T + i, "{\"i\":" + std::to_string(i) + "}");
  s.put_plugin("other", "cpu", T + 50, "{}");
  ASSERT_TRUE(s.flush());
  std::vector<history_sample> got;
  bool called = false;
  s.query_history("h", "cpu", T + 10, T + 60, 5, [&](result<std::vector<history_sample>> r) {
    ASSERT_TRUE(r.ok());
    got = std::move(*r);
    called = true;
  });
  {
    std::unique_lock lk(m);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(5), [&] { return !posted.empty(); }));
  }
  EXPECT_FALSE(called);  // runs only where `post` put it (the io thread)
  posted[0]();
  ASSERT_TRUE(called);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].ts, T + 60);  // newest first
  EXPECT_EQ(got[4].ts, T + 56);
  EXPECT_EQ(got[0].data_json, "{\"i\":60}");
  s.stop();
}

TEST_F(Store, DroppedHostDisappears) {
  {
    store s({.path = path});
    ASSERT_TRUE(s.load().ok());
    ASSERT_TRUE(s.start().ok());
    auto sink = s.sink();
    sink(bus::event{bus::event_kind::host, 1, "a", host_json("a", "UP", "10.0.0.1", 1)});
    sink(bus::event{bus::event_kind::host, 1, "b", host_json("b", "UP", "10.0.0.2", 1)});
    sink(plugin_event("a", "cpu", 2, 1));
    sink(bus::event{bus::event_kind::dropped, 3, "a",
                    json::value::object({{"name", "a"}, {"removed", true}})});
    s.stop();
  }
  store s({.path = path});
  auto snap = s.load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->hosts.size(), 1u);
  EXPECT_EQ(snap->hosts[0].name, "b");
}

TEST_F(Store, RefusesANewerSchema) {
  {
    store s({.path = path});
    ASSERT_TRUE(s.load().ok());
  }
  {
    detail::sqlite_db db;
    ASSERT_TRUE(db.open(path, false).ok());
    ASSERT_TRUE(db.exec("INSERT INTO schema_version(version) VALUES (99)").ok());
  }
  store s({.path = path});
  auto snap = s.load();
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.err().code, "store_version");
}

// What was acknowledged (queued) more than ~1 s before a kill -9 is on disk: the test waits until
// another connection sees it committed (at most ~1 s after it was queued), then kills the writer.
TEST_F(Store, SurvivesKillNine) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    store s({.path = path});
    if (!s.load().ok() || !s.start().ok()) ::_exit(1);
    for (int i = 0; i < 500; ++i) s.put_plugin("h" + std::to_string(i), "cpu", 1000 + i, "{\"v\":1}");
    s.put_host("h0", host_json("h0", "UP", "10.0.0.1", 1).dump(), 1);
    char c = 'x';
    (void)!::write(ready[1], &c, 1);
    for (int i = 0;; ++i) {  // keeps writing, one row a millisecond, until killed
      s.put_plugin("late", "cpu", 5000 + i, "{}");
      ::usleep(1000);
    }
  }
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  auto t0 = std::chrono::steady_clock::now();
  detail::sqlite_db reader;
  bool opened = reader.open(path, true).ok();
  std::int64_t plugin_hosts = -1, h0_rows = -1, late_rows = -1;
  auto committed = [&] {
    auto st = reader.prepare(
        "SELECT (SELECT COUNT(*) FROM plugin_latest WHERE host GLOB 'h[0-9]*'),"
        " (SELECT COUNT(*) FROM hosts WHERE name = 'h0'),"
        " (SELECT COUNT(*) FROM plugin_latest WHERE host = 'late')");
    if (!st || st->step() != SQLITE_ROW) return false;
    plugin_hosts = st->integer(0);
    h0_rows = st->integer(1);
    late_rows = st->integer(2);
    return plugin_hosts == 500 && h0_rows == 1 && late_rows == 1;
  };
  bool seen = opened && hbtest::wait_for(committed, std::chrono::seconds(5), std::chrono::milliseconds(10));
  auto took = std::chrono::steady_clock::now() - t0;
  reader.close();
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(seen) << "awaited the queued writes committed; last seen: " << plugin_hosts << " of 500 hosts' "
                    << "plugin rows, h0 rows " << h0_rows << ", late rows " << late_rows
                    << (opened ? "" : " (cannot open the database)");
  EXPECT_LT(took, std::chrono::milliseconds(1000)) << "committed within about a second (docs/STORAGE.md)";
  store s({.path = path});
  auto snap = s.load();
  ASSERT_TRUE(snap.ok()) << snap.err().message;
  EXPECT_EQ(snap->hosts.size(), 501u);  // h0..h499 and "late"
  bool h0_has_row = false;
  for (const auto& h : snap->hosts)
    if (h.name == "h0") h0_has_row = h.entry().string_or("state", "") == "UP";
  EXPECT_TRUE(h0_has_row);
}

namespace {

// Past three quarters of a full queue, plugin samples are shed (counted) while host, alert and
// state writes still get in; once the writer catches up, what got in is stored.
TEST_F(Store, ShedsHistoryBeforeStateWhenTheQueueFills) {
  store s({.path = path, .queue_capacity = 15});  // not started: the queue only fills
  const std::size_t cap = s.stats().queue_capacity, room = cap - cap / 4;
  std::size_t plugins_in = 0;
  for (std::size_t i = 0; i < cap; ++i)
    plugins_in += s.put_plugin("web1", "cpu_monitor", 100.0 + i, "{\"cpu_percent\":1}");
  EXPECT_EQ(plugins_in, room);  // the last quarter stays for the other writes
  EXPECT_EQ(s.stats().shed, cap - room);
  EXPECT_TRUE(s.put_host("web1", host_json("web1", "UP", "192.0.2.1", 110).dump(), 110));
  for (std::size_t i = room + 1; i < cap; ++i) EXPECT_TRUE(s.put_state("k" + std::to_string(i), "{}", 111));
  EXPECT_FALSE(s.put_state("alert_engine", "{\"x\":2}", 112));  // full: dropped
  EXPECT_EQ(s.stats().dropped, cap - room + 1);                 // the shed ones included
  ASSERT_TRUE(s.start().ok());
  s.stop();
  store again({.path = path});
  auto snap = again.load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->hosts.size(), 1u);
}

// How the io thread saves hosts: the row and its connections in parts, read back as one entry.
// Past half a queue, host rows are deferred (false, nothing counted) so that samples keep room.
TEST_F(Store, HostRowsInPartsRoundTripAndWaitForRoom) {
  server::host h;
  h.name = "web1";
  h.state = server::host_state::up;
  h.last_seen = 120;
  for (auto f : {server::address_family::ipv4, server::address_family::ipv6}) {
    auto& c = h.conn(f);
    c.present = true;
    c.address = f == server::address_family::ipv4 ? "192.0.2.1" : "2001:db8::1";
    c.seq = 42;
  }
  {
    store s({.path = path, .queue_capacity = 16});
    ASSERT_TRUE(s.load().ok());
    std::string row, conns;
    server::write_host_row(row, conns, h);
    EXPECT_EQ(row.find("connections"), std::string::npos);
    const std::size_t cap = s.stats().queue_capacity;
    std::size_t taken = 0;
    for (std::size_t i = 0; i < cap; ++i) taken += s.put_host_row("web1", row, conns, 120.0 + i);
    EXPECT_EQ(taken, cap / 2);
    EXPECT_EQ(s.stats().dropped, 0u);
    EXPECT_TRUE(s.put_plugin("web1", "cpu_monitor", 120, "{\"cpu_percent\":1}"));  // samples still fit
    ASSERT_TRUE(s.start().ok());
    ASSERT_TRUE(s.flush());
    EXPECT_TRUE(s.put_host_row("web1", row, conns, 140));
    s.stop();
  }
  store again({.path = path});
  auto snap = again.load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->hosts.size(), 1u);
  std::string want;
  server::write_host_entry(want, h);
  EXPECT_EQ(snap->hosts[0].entry().dump(), json::parse(want)->dump());
}

}  // namespace
