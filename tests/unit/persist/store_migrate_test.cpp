// Store schema versions: a version-1 database (the text-keyed plugin_latest and plugin_history
// tables) is migrated at open and keeps its hosts, latest data and history; retention keeps each
// series' latest sample; a full write queue is a counted drop.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "heartbeat/server/store.hpp"

#include "../store_file.hpp"
#include "../wait_for.hpp"

using namespace heartbeat;
using namespace heartbeat::server;

namespace {

using StoreSchema = hbtest::store_file_test;

// What hbd wrote up to schema version 1 (plugin tables and the tables load() reads).
const char* const version_1_schema =
    "CREATE TABLE schema_version(version INTEGER NOT NULL);"
    "INSERT INTO schema_version(version) VALUES (1);"
    "CREATE TABLE hosts(name TEXT PRIMARY KEY, updated REAL NOT NULL, json TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE connections(host TEXT NOT NULL, family TEXT NOT NULL, updated REAL NOT NULL,"
    " json TEXT NOT NULL, PRIMARY KEY(host, family)) WITHOUT ROWID;"
    "CREATE TABLE plugin_latest(host TEXT NOT NULL, plugin TEXT NOT NULL, ts REAL NOT NULL,"
    " data TEXT NOT NULL, PRIMARY KEY(host, plugin)) WITHOUT ROWID;"
    "CREATE TABLE plugin_history(id INTEGER PRIMARY KEY, host TEXT NOT NULL,"
    " plugin TEXT NOT NULL, ts REAL NOT NULL, data TEXT NOT NULL);"
    "CREATE INDEX plugin_history_hpt ON plugin_history(host, plugin, ts);"
    "CREATE INDEX plugin_history_ts ON plugin_history(ts);"
    "CREATE TABLE messages(id INTEGER PRIMARY KEY, ts REAL NOT NULL, host TEXT NOT NULL, json TEXT NOT "
    "NULL);";

const double T = clock::wall_now() - 1000;

void make_version_1(const std::string& path) {
  detail::sqlite_db db;
  ASSERT_TRUE(db.open(path, false).ok());
  ASSERT_TRUE(db.exec(version_1_schema).ok());
  auto ins = db.prepare("INSERT INTO plugin_history(host, plugin, ts, data) VALUES (?1, ?2, ?3, ?4)");
  ASSERT_TRUE(ins.ok());
  for (int i = 0; i < 10; ++i)
    ins->bind(1, std::string_view("web1"))
        .bind(2, std::string_view("cpu"))
        .bind(3, T + i)
        .bind(4, std::string_view("{\"i\":" + std::to_string(i) + "}"))
        .run();
  ins->bind(1, std::string_view("web1"))
      .bind(2, std::string_view("mem"))
      .bind(3, T + 3)
      .bind(4, std::string_view("{\"m\":1}"))
      .run();
  // History a removed host left (no latest data): load() never restored it.
  ins->bind(1, std::string_view("gone"))
      .bind(2, std::string_view("cpu"))
      .bind(3, T)
      .bind(4, std::string_view("{}"))
      .run();
  const std::string sql =
      "INSERT INTO plugin_latest VALUES ('web1', 'cpu', " + std::to_string(T + 9) +
      ", '{\"i\":9}'), ('web1', 'mem', " + std::to_string(T + 3) +
      ", '{\"m\":1}'),"
      // Latest data whose history retention removed.
      " ('db1', 'disk', 1000, '{\"d\":7}');"
      "INSERT INTO hosts VALUES ('web1', 1, '{\"name\":\"web1\",\"state\":\"UP\"}'),"
      " ('db1', 1, '{\"name\":\"db1\",\"state\":\"DOWN\"}');"
      "INSERT INTO connections VALUES ('web1', 'ipv4', 1, '{\"family\":\"ipv4\",\"address\":\"10.0.0.1\"}');";
  ASSERT_TRUE(db.exec(sql.c_str()).ok());
}

}  // namespace

TEST_F(StoreSchema, MigratesAVersion1DatabaseAndKeepsItsHistoryAndHosts) {
  make_version_1(path);
  {
    store s({.path = path});
    auto snap = s.load();
    ASSERT_TRUE(snap.ok()) << snap.err().message;
    ASSERT_EQ(snap->hosts.size(), 2u);
    const stored_host& db1 = snap->hosts[0];
    EXPECT_EQ(db1.name, "db1");
    EXPECT_EQ(db1.entry().string_or("state", ""), "DOWN");
    ASSERT_EQ(db1.plugins.size(), 1u);
    EXPECT_EQ(db1.plugins[0].data_json, "{\"d\":7}");
    EXPECT_EQ(db1.plugins[0].ts, 1000);
    const stored_host& web = snap->hosts[1];
    EXPECT_EQ(web.name, "web1");
    ASSERT_EQ(web.entry().find("connections")->size(), 1u);
    ASSERT_EQ(web.plugins.size(), 2u);
    EXPECT_EQ(web.plugins[0].name, "cpu");
    EXPECT_EQ(web.plugins[0].data_json, "{\"i\":9}");
    ASSERT_EQ(web.plugins[0].history.size(), 10u);
    EXPECT_EQ(web.plugins[0].history.front().data_json, "{\"i\":0}");
    EXPECT_EQ(web.plugins[0].history.back().ts, T + 9);
    EXPECT_EQ(web.plugins[1].name, "mem");
    ASSERT_EQ(web.plugins[1].history.size(), 1u);

    // The version-1 names still answer SQL, and the history query finds the migrated samples.
    detail::sqlite_db db;
    ASSERT_TRUE(db.open(path, true).ok());
    auto st = db.prepare(
        "SELECT (SELECT max(version) FROM schema_version), (SELECT count(*) FROM plugin_history WHERE host = "
        "'web1' AND plugin = 'cpu'), (SELECT data FROM plugin_latest WHERE host = 'db1'),"
        " (SELECT count(*) FROM plugin_history WHERE host = 'gone')");
    ASSERT_TRUE(st.ok());
    ASSERT_EQ(st->step(), SQLITE_ROW);
    EXPECT_EQ(st->integer(0), 2);
    EXPECT_EQ(st->integer(1), 10);
    EXPECT_EQ(st->text(2), "{\"d\":7}");
    EXPECT_EQ(st->integer(3), 0);

    std::mutex m;
    std::condition_variable cv;
    std::vector<history_sample> got;
    bool done = false;
    ASSERT_TRUE(s.start().ok());
    s.query_history("web1", "cpu", T + 2, T + 5, 0, [&](result<std::vector<history_sample>> r) {
      std::lock_guard lk(m);
      if (r) got = std::move(*r);
      done = true;
      cv.notify_all();
    });
    {
      std::unique_lock lk(m);
      ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(5), [&] { return done; }));
    }
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0].ts, T + 5);  // newest first
    // Writes go on in the new tables.
    EXPECT_TRUE(s.put_plugin("web1", "cpu", T + 20, "{\"i\":20}"));
    EXPECT_TRUE(s.put_plugin("new", "cpu", T + 21, "{}"));
    s.stop();
    EXPECT_EQ(s.stats().errors, 0u);
  }
  store s({.path = path});
  auto snap = s.load();
  ASSERT_TRUE(snap.ok()) << snap.err().message;
  ASSERT_EQ(snap->hosts.size(), 3u);
  EXPECT_EQ(snap->hosts[2].plugins[0].data_json, "{\"i\":20}");
  EXPECT_EQ(snap->hosts[2].plugins[0].history.size(), 11u);
}

// The latest data of a plugin that stopped reporting outlives history_retention (as the
// plugin_latest table did); the rest of its history goes.
TEST_F(StoreSchema, RetentionKeepsEachSeriesLatestSample) {
  const double now = 1'800'000'000;
  {
    store s({.path = path, .history_retention = 3600});
    s.set_prune_clock([&] { return now - 86400; });  // nothing is old yet
    ASSERT_TRUE(s.load().ok());
    ASSERT_TRUE(s.start().ok());
    for (int i = 0; i < 5; ++i)
      s.put_plugin("quiet", "cpu", now - 7200 + i, "{\"q\":" + std::to_string(i) + "}");
    for (int i = 0; i < 5; ++i) s.put_plugin("busy", "cpu", now - 60 + i, "{}");
    s.stop();
  }
  store s({.path = path, .history_retention = 3600});
  s.set_prune_clock([&] { return now; });
  ASSERT_TRUE(s.load().ok());
  ASSERT_TRUE(s.start().ok());  // prunes at start
  ASSERT_TRUE(hbtest::wait_for([&] { return s.stats().pruned >= 4; }));
  s.stop();
  store r({.path = path});
  auto snap = r.load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->hosts.size(), 2u);
  EXPECT_EQ(snap->hosts[0].name, "busy");
  EXPECT_EQ(snap->hosts[0].plugins[0].history.size(), 5u);
  EXPECT_EQ(snap->hosts[1].name, "quiet");
  EXPECT_EQ(snap->hosts[1].plugins[0].data_json, "{\"q\":4}");
  EXPECT_EQ(snap->hosts[1].plugins[0].history.size(), 1u);
}

TEST_F(StoreSchema, AFullQueueIsACountedDrop) {
  store s({.path = path, .queue_capacity = 4});
  ASSERT_TRUE(s.load().ok());  // not started: nothing drains the queue
  int accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += s.put_plugin("h", "cpu", T + i, "{}") ? 1 : 0;
  auto st = s.stats();
  EXPECT_EQ(st.queued, static_cast<std::uint64_t>(accepted));
  EXPECT_EQ(st.dropped, static_cast<std::uint64_t>(10 - accepted));
  EXPECT_GT(st.dropped, 0u);
  ASSERT_TRUE(s.start().ok());
  ASSERT_TRUE(s.flush());
  EXPECT_EQ(s.stats().rows_written, static_cast<std::uint64_t>(accepted));
  s.stop();
}
