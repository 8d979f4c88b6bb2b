// The store's SQLite schema (tables, indexes, the version check) and the
// prepared statements of the writer connection. store::open() runs both on the
// starting thread; the statements then belong to the writer thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "heartbeat/core/result.hpp"
#include "heartbeat/server/detail/sqlite.hpp"
#include "heartbeat/server/detail/store_events.hpp"

namespace heartbeat::server {

inline constexpr int store_schema_version = 1;

namespace detail {

// One prepared statement per kind of write, and the retention deletes.
struct store_statements {
  sqlite_stmt host, conn, conn_clear, plugin_latest, plugin_hist, message, alert, command, state;
  sqlite_stmt user, user_forget, event;
  sqlite_stmt drop[8];
  sqlite_stmt prune_hist, prune_msgs, prune_cmds, prune_events;
};

// Creates what is missing (every statement is IF NOT EXISTS) and refuses a
// database written by a newer hbd.
inline result<void> create_store_schema(sqlite_db& db, const std::string& path) {
  if (auto r =
          db.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);"
                  "CREATE TABLE IF NOT EXISTS hosts(name TEXT PRIMARY KEY, updated REAL NOT NULL, json "
                  "TEXT NOT NULL)"
                  " WITHOUT ROWID;"
                  "CREATE TABLE IF NOT EXISTS connections(host TEXT NOT NULL, family TEXT NOT NULL, "
                  "updated REAL NOT NULL,"
                  " json TEXT NOT NULL, PRIMARY KEY(host, family)) WITHOUT ROWID;"
                  "CREATE TABLE IF NOT EXISTS plugin_latest(host TEXT NOT NULL, plugin TEXT NOT NULL, ts "
                  "REAL NOT NULL,"
                  " data TEXT NOT NULL, PRIMARY KEY(host, plugin)) WITHOUT ROWID;"
                  "CREATE TABLE IF NOT EXISTS plugin_history(id INTEGER PRIMARY KEY, host TEXT NOT NULL,"
                  " plugin TEXT NOT NULL, ts REAL NOT NULL, data TEXT NOT NULL);"
                  "CREATE INDEX IF NOT EXISTS plugin_history_hpt ON plugin_history(host, plugin, ts);"
                  "CREATE INDEX IF NOT EXISTS plugin_history_ts ON plugin_history(ts);"
                  "CREATE TABLE IF NOT EXISTS alerts(host TEXT NOT NULL, metric_path TEXT NOT NULL, "
                  "updated REAL NOT NULL,"
                  " json TEXT NOT NULL, PRIMARY KEY(host, metric_path)) WITHOUT ROWID;"
                  "CREATE TABLE IF NOT EXISTS commands(id TEXT PRIMARY KEY, host TEXT NOT NULL, updated "
                  "REAL NOT NULL,"
                  " json TEXT NOT NULL) WITHOUT ROWID;"
                  "CREATE TABLE IF NOT EXISTS messages(id INTEGER PRIMARY KEY, ts REAL NOT NULL, host "
                  "TEXT NOT NULL,"
                  " json TEXT NOT NULL);"
                  "CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, updated REAL NOT NULL, value "
                  "TEXT NOT NULL)"
                  " WITHOUT ROWID;"
                  // Added without a version bump: older hbd versions simply ignore the table.
                  "CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, updated REAL NOT NULL, json "
                  "TEXT NOT NULL) WITHOUT ROWID;");
      !r)
    return r;
  // The event log, also added without a version bump.
  if (auto r = db.exec(events_schema); !r) return r;
  auto st = db.prepare("SELECT max(version) FROM schema_version");
  if (!st) return st.err();
  int version = 0;
  bool have = false;
  if (st->step() == SQLITE_ROW && sqlite3_column_type(st->get(), 0) != SQLITE_NULL) {
    version = static_cast<int>(st->integer(0));
    have = true;
  }
  if (!have) return db.exec("INSERT INTO schema_version(version) VALUES (1)");
  if (version > store_schema_version)
    return make_error("store_version", path + " has schema version " + std::to_string(version) +
                                           ", newer than this hbd understands (" +
                                           std::to_string(store_schema_version) + ")");
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
      {&s.plugin_latest,
       "INSERT INTO plugin_latest(host, plugin, ts, data) VALUES (?1, ?2, ?3, ?4) ON "
       "CONFLICT(host, plugin) DO UPDATE SET ts = excluded.ts, data = excluded.data"},
      {&s.plugin_hist, "INSERT INTO plugin_history(host, plugin, ts, data) VALUES (?1, ?2, ?3, ?4)"},
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
      {&s.drop[2], "DELETE FROM plugin_latest WHERE host = ?1"},
      {&s.drop[3], "DELETE FROM plugin_history WHERE host = ?1"},
      {&s.drop[4], "DELETE FROM alerts WHERE host = ?1"},
      {&s.drop[5], "DELETE FROM commands WHERE host = ?1"},
      {&s.drop[6], "DELETE FROM messages WHERE host = ?1"},
      {&s.drop[7], events_drop_host},
      {&s.event, events_insert},
      {&s.prune_events, events_prune},
      {&s.prune_hist, "DELETE FROM plugin_history WHERE ts < ?1"},
      {&s.prune_msgs, "DELETE FROM messages WHERE id <= (SELECT max(id) FROM messages) - ?1"},
      {&s.prune_cmds, "DELETE FROM commands WHERE updated < ?1"},
  };
  for (const auto& [stmt, sql] : all)
    if (auto r = p(*stmt, sql); !r) return r;
  return {};
}

}  // namespace detail
}  // namespace heartbeat::server
