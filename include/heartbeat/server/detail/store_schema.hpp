// The store's SQLite schema (tables, indexes, the version check and the migration of an
// older database) and the prepared statements of the writer connection. store::open() runs
// both on the starting thread; the statements then belong to the writer thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/core/sd_notify.hpp"
#include "heartbeat/server/detail/sqlite.hpp"
#include "heartbeat/server/detail/store_events.hpp"

namespace heartbeat::server {

// 2: plugin data in `series` and `samples` (integer series ids) instead of the text-keyed
// `plugin_latest` and `plugin_history` tables, which remain as views (docs/STORAGE.md).
inline constexpr int store_schema_version = 2;

namespace detail {

// One prepared statement per kind of write, and the retention deletes.
struct store_statements {
  sqlite_stmt host, conn, conn_clear, series_find, series_add, sample, latest, message, alert, command, state;
  sqlite_stmt user, user_forget, event;
  sqlite_stmt drop[8];
  sqlite_stmt sample_bounds, sample_at, prune_hist, prune_msgs, prune_cmds, prune_events;
};

// Tables every version has.
inline constexpr const char* store_common_schema =
    "CREATE TABLE IF NOT EXISTS hosts(name TEXT PRIMARY KEY, updated REAL NOT NULL, json TEXT NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS connections(host TEXT NOT NULL, family TEXT NOT NULL, updated REAL NOT NULL,"
    " json TEXT NOT NULL, PRIMARY KEY(host, family)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS alerts(host TEXT NOT NULL, metric_path TEXT NOT NULL, updated REAL NOT NULL,"
    " json TEXT NOT NULL, PRIMARY KEY(host, metric_path)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS commands(id TEXT PRIMARY KEY, host TEXT NOT NULL, updated REAL NOT NULL,"
    " json TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS messages(id INTEGER PRIMARY KEY, ts REAL NOT NULL, host TEXT NOT NULL,"
    " json TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, updated REAL NOT NULL, value TEXT NOT NULL)"
    " WITHOUT ROWID;"
    // Added without a version bump: older hbd versions simply ignore the table.
    "CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, updated REAL NOT NULL, json TEXT NOT NULL)"
    " WITHOUT ROWID;";

// Plugin data since version 2. A sample row carries its series' integer id, so that the one
// index a sample adds holds 3 numbers instead of two names and a time; the latest sample of a
// series is the row its `last_id` points at (retention never removes it), so a PLG writes one
// row instead of an upsert and an insert. Rowids grow with arrival, which pruning uses instead
// of an index on ts. The views keep the version-1 names for SQL written against them.
inline constexpr const char* store_plugin_schema =
    "CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, host TEXT NOT NULL, plugin TEXT NOT NULL,"
    " last_id INTEGER, UNIQUE(host, plugin));"
    "CREATE TABLE IF NOT EXISTS samples(id INTEGER PRIMARY KEY, series INTEGER NOT NULL, ts REAL NOT NULL,"
    " data TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS samples_series ON samples(series, ts);"
    "CREATE VIEW IF NOT EXISTS plugin_latest(host, plugin, ts, data) AS SELECT se.host, se.plugin, sa.ts,"
    " sa.data FROM series se JOIN samples sa ON sa.id = se.last_id;"
    "CREATE VIEW IF NOT EXISTS plugin_history(id, host, plugin, ts, data) AS SELECT sa.id, se.host,"
    " se.plugin, sa.ts, sa.data FROM samples sa JOIN series se ON se.id = sa.series;";

// Version 1 -> 2 in one transaction: series from plugin_latest (history without latest data is
// what a removed host left, which load() ignored: it goes), samples keep their ids, each
// series' last_id is its newest history row with the latest data's timestamp, or a sample
// added for latest data whose history retention already removed.
inline constexpr const char* store_migrate_1_2 =
    "CREATE TABLE series(id INTEGER PRIMARY KEY, host TEXT NOT NULL, plugin TEXT NOT NULL,"
    " last_id INTEGER, UNIQUE(host, plugin));"
    "CREATE TABLE samples(id INTEGER PRIMARY KEY, series INTEGER NOT NULL, ts REAL NOT NULL,"
    " data TEXT NOT NULL);"
    "INSERT INTO series(host, plugin) SELECT host, plugin FROM plugin_latest ORDER BY host, plugin;"
    "INSERT INTO samples(id, series, ts, data) SELECT h.id, s.id, h.ts, h.data FROM plugin_history h"
    " JOIN series s ON s.host = h.host AND s.plugin = h.plugin ORDER BY h.id;"
    "CREATE INDEX samples_series ON samples(series, ts);"
    "UPDATE series SET last_id = (SELECT max(sa.id) FROM samples sa, plugin_latest l WHERE"
    " sa.series = series.id AND l.host = series.host AND l.plugin = series.plugin AND sa.ts = l.ts);"
    "INSERT INTO samples(series, ts, data) SELECT s.id, l.ts, l.data FROM series s JOIN plugin_latest l"
    " ON l.host = s.host AND l.plugin = s.plugin WHERE s.last_id IS NULL ORDER BY s.id;"
    "UPDATE series SET last_id = (SELECT max(id) FROM samples WHERE series = series.id)"
    " WHERE last_id IS NULL;"
    "DROP TABLE plugin_history;"
    "DROP TABLE plugin_latest;"
    "DELETE FROM schema_version;"
    "INSERT INTO schema_version(version) VALUES (2);";

// Runs on the starting thread inside load(), before hbd is ready: a large history takes minutes
// (about 2.6 s per million samples measured), so every 10 s it logs that it is still at work
// and asks systemd (Type=notify) for more start-up time.
inline result<void> migrate_store_1_2(sqlite_db& db, const std::string& path) {
  using steady = std::chrono::steady_clock;
  struct progress {
    steady::time_point start, next;
    const std::string* path;
  } pr{steady::now(), steady::now(), &path};
  auto tick = [](void* arg) -> int {
    auto* p = static_cast<progress*>(arg);
    const auto now = steady::now();
    if (now < p->next) return 0;
    p->next = now + std::chrono::seconds(10);
    sd::notify("EXTEND_TIMEOUT_USEC=60000000\nSTATUS=migrating the store to schema version 2");
    if (now - p->start >= std::chrono::seconds(1))
      log::info("store: ", *p->path, ": still migrating (",
                std::chrono::duration_cast<std::chrono::seconds>(now - p->start).count(), " s)");
    return 0;
  };
  log::info("store: ", path, ": migrating plugin data from schema version 1 to 2 (integer series ids)");
  tick(&pr);
  if (auto r = db.exec("BEGIN"); !r) return r;
  sqlite3_progress_handler(db.get(), 1 << 20, tick, &pr);
  auto migrated = db.exec(store_migrate_1_2);
  sqlite3_progress_handler(db.get(), 0, nullptr, nullptr);
  if (!migrated) {
    (void)db.exec("ROLLBACK");
    return make_error("store_migrate",
                      path + ": migration to schema version 2 failed: " + migrated.err().message);
  }
  if (auto r = db.exec(store_plugin_schema); !r) {
    (void)db.exec("ROLLBACK");
    return r;
  }
  if (auto r = db.exec("COMMIT"); !r) {
    (void)db.exec("ROLLBACK");
    return r;
  }
  std::int64_t series = 0, samples = 0;
  if (auto st = db.prepare("SELECT (SELECT count(*) FROM series), (SELECT count(*) FROM samples)");
      st && st->step() == SQLITE_ROW) {
    series = st->integer(0);
    samples = st->integer(1);
  }
  const double secs = std::chrono::duration<double>(steady::now() - pr.start).count();
  log::info("store: ", path, ": migrated to schema version 2: ", series, " series, ", samples, " samples in ",
            static_cast<std::int64_t>(secs * 1000), " ms");
  return {};
}

// Creates what is missing, migrates a version-1 database and refuses one written by a newer
// hbd (before changing anything in it).
inline result<void> create_store_schema(sqlite_db& db, const std::string& path) {
  if (auto r = db.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"); !r) return r;
  auto st = db.prepare("SELECT max(version) FROM schema_version");
  if (!st) return st.err();
  int version = 0;
  bool have = false;
  if (st->step() == SQLITE_ROW && sqlite3_column_type(st->get(), 0) != SQLITE_NULL) {
    version = static_cast<int>(st->integer(0));
    have = true;
  }
  st->reset();
  if (version > store_schema_version)
    return make_error("store_version", path + " has schema version " + std::to_string(version) +
                                           ", newer than this hbd understands (" +
                                           std::to_string(store_schema_version) + ")");
  if (auto r = db.exec(store_common_schema); !r) return r;
  // The event log, added without a version bump.
  if (auto r = db.exec(events_schema); !r) return r;
  if (have && version < 2) return migrate_store_1_2(db, path);
  if (auto r = db.exec(store_plugin_schema); !r) return r;
  if (!have) return db.exec("INSERT INTO schema_version(version) VALUES (2)");
  return {};
}

inline result<void> prepare_store_writes(sqlite_db& db, store_statements& s) {
  auto p = [&](sqlite_stmt& out, std::string_view sql) -> result<void> {
    auto r = db.prepare(sql);
    if (!r) return r.err();
    out = std::move(*r);
    return {};
  };
  const std::pair<sqlite_stmt*, const char*> all[] = {
      {&s.host,
       "INSERT INTO hosts(name, updated, json) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO UPDATE SET "
       "updated = excluded.updated, json = excluded.json"},
      {&s.conn,
       "INSERT INTO connections(host, family, updated, json) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(host, "
       "family) DO UPDATE SET updated = excluded.updated, json = excluded.json"},
      {&s.conn_clear, "DELETE FROM connections WHERE host = ?1 AND updated < ?2"},
      {&s.series_find, "SELECT id FROM series WHERE host = ?1 AND plugin = ?2"},
      {&s.series_add, "INSERT INTO series(host, plugin) VALUES (?1, ?2)"},
      {&s.sample, "INSERT INTO samples(series, ts, data) VALUES (?1, ?2, ?3)"},
      {&s.latest, "UPDATE series SET last_id = ?2 WHERE id = ?1"},
      {&s.message, "INSERT INTO messages(ts, host, json) VALUES (?1, ?2, ?3)"},
      {&s.alert,
       "INSERT INTO alerts(host, metric_path, updated, json) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(host, "
       "metric_path) DO UPDATE SET updated = excluded.updated, json = excluded.json"},
      {&s.command,
       "INSERT INTO commands(id, host, updated, json) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO "
       "UPDATE SET host = excluded.host, updated = excluded.updated, json = excluded.json"},
      {&s.state,
       "INSERT INTO state(key, updated, value) VALUES (?1, ?2, ?3) ON CONFLICT(key) DO UPDATE SET "
       "updated = excluded.updated, value = excluded.value"},
      {&s.user,
       "INSERT INTO users(name, updated, json) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO UPDATE SET "
       "updated = excluded.updated, json = excluded.json"},
      {&s.user_forget, "DELETE FROM users WHERE name = ?1"},
      {&s.drop[0], "DELETE FROM hosts WHERE name = ?1"},
      {&s.drop[1], "DELETE FROM connections WHERE host = ?1"},
      {&s.drop[2], "DELETE FROM samples WHERE series IN (SELECT id FROM series WHERE host = ?1)"},
      {&s.drop[3], "DELETE FROM series WHERE host = ?1"},
      {&s.drop[4], "DELETE FROM alerts WHERE host = ?1"},
      {&s.drop[5], "DELETE FROM commands WHERE host = ?1"},
      {&s.drop[6], "DELETE FROM messages WHERE host = ?1"},
      {&s.drop[7], events_drop_host},
      {&s.event, events_insert},
      {&s.prune_events, events_prune},
      {&s.sample_bounds, "SELECT min(id), max(id) FROM samples"},
      {&s.sample_at, "SELECT ts FROM samples WHERE id >= ?1 ORDER BY id LIMIT 1"},
      // ?1: the first rowid retention keeps (found by a binary search on ts, see store::prune());
      // rows below it that are not that old yet (clocks out of step) wait for a later pass.
      {&s.prune_hist,
       "DELETE FROM samples WHERE id < ?1 AND ts < ?2 AND id NOT IN (SELECT last_id FROM series WHERE "
       "last_id IS NOT NULL)"},
      {&s.prune_msgs, "DELETE FROM messages WHERE id <= (SELECT max(id) FROM messages) - ?1"},
      {&s.prune_cmds, "DELETE FROM commands WHERE updated < ?1"},
  };
  for (const auto& [stmt, sql] : all)
    if (auto r = p(*stmt, sql); !r) return r;
  return {};
}

}  // namespace detail
}  // namespace heartbeat::server
