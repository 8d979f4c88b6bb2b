// The PostgreSQL store's schema: the same tables as the SQLite store plus what
// several nodes share (sessions, cluster members, the leader's lease, the change
// feed, the notification outbox), created and migrated at start under an
// advisory lock with a version table; and the snapshot query that load() runs.
// Starting thread (load) or the writer thread (a server first reached later).
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/server/detail/pg.hpp"
#include "heartbeat/server/store_snapshot.hpp"

namespace heartbeat::server {

inline constexpr int store_pg_schema_version = 1;

namespace detail {

// Migrations by version: each runs once, in a transaction, in order.
inline const std::vector<std::pair<int, const char*>>& store_pg_migrations() {
  static const std::vector<std::pair<int, const char*>> m = {
      {1,
       // Rows rewritten all the time leave room in their page, so that an update stays in place
       // (HOT: no index write).
       "CREATE TABLE hosts(name text PRIMARY KEY, updated double precision NOT NULL, json text NOT NULL)"
       " WITH (fillfactor = 70);"
       "CREATE TABLE connections(host text NOT NULL, family text NOT NULL, updated double precision NOT "
       "NULL, json text NOT NULL, PRIMARY KEY(host, family)) WITH (fillfactor = 70);"
       "CREATE TABLE plugin_latest(host text NOT NULL, plugin text NOT NULL, ts double precision NOT NULL,"
       " data text NOT NULL, PRIMARY KEY(host, plugin)) WITH (fillfactor = 70);"
       // Every node writes the samples it receives: the same sample twice is one row, and
       // (host, plugin, ts) is the key. Rows arrive roughly in ts order: a BRIN index is enough
       // for retention and costs next to nothing per insert.
       "CREATE TABLE plugin_history(host text NOT NULL, plugin text NOT NULL, ts double precision NOT "
       "NULL, data text NOT NULL, PRIMARY KEY(host, plugin, ts));"
       "CREATE INDEX plugin_history_ts ON plugin_history USING brin(ts);"
       "CREATE TABLE alerts(host text NOT NULL, metric_path text NOT NULL, updated double precision NOT "
       "NULL, json text NOT NULL, PRIMARY KEY(host, metric_path)) WITH (fillfactor = 70);"
       "CREATE TABLE commands(id text PRIMARY KEY, host text NOT NULL, updated double precision NOT NULL,"
       " json text NOT NULL);"
       "CREATE TABLE messages(id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ts double precision "
       "NOT NULL, host text NOT NULL, json text NOT NULL);"
       "CREATE TABLE state(key text PRIMARY KEY, updated double precision NOT NULL, value text NOT NULL);"
       "CREATE TABLE users(name text PRIMARY KEY, updated double precision NOT NULL, json text NOT NULL);"
       // Login sessions by SHA-256 of the token (hex), valid on every node.
       "CREATE TABLE sessions(digest text PRIMARY KEY, username text NOT NULL, csrf text NOT NULL,"
       " created double precision NOT NULL, expires double precision NOT NULL);"
       "CREATE TABLE cluster_nodes(name text PRIMARY KEY, version text NOT NULL, started double "
       "precision NOT NULL, last_seen double precision NOT NULL);"
       "CREATE TABLE cluster_lease(id integer PRIMARY KEY CHECK (id = 1), holder text NOT NULL,"
       " expires double precision NOT NULL, term bigint NOT NULL);"
       "CREATE TABLE cluster_changes(id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, node text NOT "
       "NULL, ts double precision NOT NULL, kind text NOT NULL, data text NOT NULL);"
       "CREATE INDEX cluster_changes_ts ON cluster_changes(ts);"
       // Notifications: `key` and `event_ts` (when the node saw what happened) let a new leader
       // tell whether anyone recorded what it saw itself.
       "CREATE TABLE outbox(id text PRIMARY KEY, node text NOT NULL, created double precision NOT NULL,"
       " event_ts double precision NOT NULL, key text NOT NULL, notification text NOT NULL, sent double "
       "precision, sent_by text);"
       "CREATE INDEX outbox_unsent ON outbox(created) WHERE sent IS NULL;"
       "CREATE INDEX outbox_key ON outbox(key, event_ts);"
       // The event log (server/event_log.hpp): each node writes what it saw and did (`node`: its
       // application_name, "hbd <node>").
       "CREATE TABLE events(id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ts double precision NOT "
       "NULL, node text NOT NULL, host text NOT NULL, metric text NOT NULL, kind text NOT NULL, result "
       "text NOT NULL, reason text NOT NULL, json text NOT NULL);"
       "CREATE INDEX events_host ON events(host, metric, ts);"
       "CREATE INDEX events_ts ON events(ts);"
       "CREATE INDEX events_result ON events(result, ts);"},
  };
  return m;
}

// Brings the database to store_pg_schema_version; refuses one written by a newer hbd. Nodes
// starting together take turns (advisory lock).
inline result<void> migrate_pg_store(pg_conn& db) {
  constexpr const char* lock_key = "7204118052";  // any constant shared by every hbd
  if (auto r = db.exec(std::string("SELECT pg_advisory_lock(") + lock_key + ")"); !r) return r;
  auto unlock = [&] { (void)db.exec(std::string("SELECT pg_advisory_unlock(") + lock_key + ")"); };
  if (auto r = db.exec("CREATE TABLE IF NOT EXISTS schema_version(version integer NOT NULL)"); !r) {
    unlock();
    return r;
  }
  auto v = db.query("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!v) {
    unlock();
    return v.err();
  }
  int version = static_cast<int>(pg_double(*v, 0, 0));
  if (version > store_pg_schema_version) {
    unlock();
    return make_error("store_version", "the database has schema version " + std::to_string(version) +
                                           ", newer than this hbd understands (" +
                                           std::to_string(store_pg_schema_version) + ")");
  }
  for (const auto& [to, sql] : store_pg_migrations()) {
    if (to <= version) continue;
    std::string step = std::string("BEGIN;") + sql + "INSERT INTO schema_version(version) VALUES (" +
                       std::to_string(to) + ");COMMIT";
    if (auto r = db.exec(step); !r) {
      (void)db.exec("ROLLBACK");
      unlock();
      return make_error("store_schema",
                        "migration to version " + std::to_string(to) + " failed: " + r.err().message);
    }
  }
  unlock();
  return {};
}

// The snapshot load() returns, as the SQLite store builds it (store_snapshot.hpp). Messages
// that several nodes recorded for the same happening (the same text for the same host within
// a few seconds) come back once.
inline result<store_snapshot> read_pg_snapshot(pg_conn& db, std::size_t history_samples,
                                               std::size_t messages_loaded) {
  store_snapshot snap;
  std::map<std::string, stored_host> hosts;
  auto host_entry = [&](const std::string& name) -> stored_host& {
    auto [it, fresh] = hosts.try_emplace(name);
    if (fresh) {
      it->second.name = name;
      it->second.json = json::value::object({{"name", json::value(name)}});
    }
    return it->second;
  };
  auto parse_or_null = [](const std::string& text) {
    auto r = json::parse(text);
    return r ? std::move(*r) : json::value();
  };
  auto rows = [&](const std::string& sql, std::vector<pg_param> params = {}) {
    return db.query(sql, params);
  };
  {
    auto r = rows("SELECT name, json FROM hosts ORDER BY name");
    if (!r) return r.err();
    for (int i = 0; i < pg_rows(*r); ++i) {
      stored_host& h = host_entry(pg_text(*r, i, 0));
      json::value v = parse_or_null(pg_text(*r, i, 1));
      if (v.is_object()) h.json = std::move(v);
      h.json.erase("connections");
      h.json.set("connections", json::value::array());
    }
  }
  {
    auto r = rows("SELECT host, json FROM connections ORDER BY host, family");
    if (!r) return r.err();
    for (int i = 0; i < pg_rows(*r); ++i) {
      stored_host& h = host_entry(pg_text(*r, i, 0));
      json::value c = parse_or_null(pg_text(*r, i, 1));
      if (!c.is_object()) continue;
      json::value* arr = h.json.find("connections");
      if (!arr || !arr->is_array()) arr = &h.json.set("connections", json::value::array());
      arr->push_back(std::move(c));
    }
  }
  std::map<std::pair<std::string, std::string>, stored_plugin> plugins;
  {
    auto r = rows("SELECT host, plugin, ts, data FROM plugin_latest ORDER BY host, plugin");
    if (!r) return r.err();
    for (int i = 0; i < pg_rows(*r); ++i) {
      stored_plugin p;
      p.name = pg_text(*r, i, 1);
      p.ts = pg_double(*r, i, 2);
      p.data_json = pg_text(*r, i, 3);
      plugins.emplace(std::pair{pg_text(*r, i, 0), p.name}, std::move(p));
    }
  }
  if (history_samples > 0) {
    // One index range per plugin (host, plugin, ts) instead of a window over the whole table.
    auto r = rows(
        "SELECT l.host, l.plugin, h.ts, h.data FROM plugin_latest l CROSS JOIN LATERAL (SELECT ts, data "
        "FROM plugin_history p WHERE p.host = l.host AND p.plugin = l.plugin ORDER BY ts DESC LIMIT $1) h "
        "ORDER BY l.host, l.plugin, h.ts",
        {std::to_string(history_samples)});
    if (!r) return r.err();
    for (int i = 0; i < pg_rows(*r); ++i) {
      auto it = plugins.find(std::pair{pg_text(*r, i, 0), pg_text(*r, i, 1)});
      if (it == plugins.end()) continue;
      it->second.history.push_back(history_sample{pg_double(*r, i, 2), pg_text(*r, i, 3)});
    }
  }
  for (auto& [key, p] : plugins) host_entry(key.first).plugins.push_back(std::move(p));
  {
    auto r = rows("SELECT json FROM alerts ORDER BY host, metric_path");
    if (!r) return r.err();
    for (int i = 0; i < pg_rows(*r); ++i)
      if (json::value v = parse_or_null(pg_text(*r, i, 0)); v.is_object())
        snap.alerts.push_back(std::move(v));
  }
  {
    auto r = rows("SELECT json FROM commands ORDER BY updated, id");
    if (!r) return r.err();
    for (int i = 0; i < pg_rows(*r); ++i)
      if (json::value v = parse_or_null(pg_text(*r, i, 0)); v.is_object())
        snap.commands.push_back(std::move(v));
  }
  {
    // Read more than kept: duplicates from other nodes are folded below.
    auto r = rows("SELECT json FROM (SELECT id, json FROM messages ORDER BY id DESC LIMIT $1) m ORDER BY id",
                  {std::to_string(messages_loaded * 4)});
    if (!r) return r.err();
    std::vector<json::value> all;
    for (int i = 0; i < pg_rows(*r); ++i) {
      json::value v = parse_or_null(pg_text(*r, i, 0));
      if (v.is_null()) continue;
      bool dup = false;
      for (auto it = all.rbegin(); it != all.rend() && !dup; ++it) {
        if (std::fabs(it->number_or("time", 0) - v.number_or("time", 0)) > 10) break;
        dup = it->string_or("host", "") == v.string_or("host", "") &&
              it->string_or("msg", "") == v.string_or("msg", "") &&
              it->string_or("event", "") == v.string_or("event", "");
      }
      if (!dup) all.push_back(std::move(v));
    }
    std::size_t from = all.size() > messages_loaded ? all.size() - messages_loaded : 0;
    for (std::size_t i = from; i < all.size(); ++i) snap.messages.push_back(std::move(all[i]));
  }
  {
    auto r = rows("SELECT key, value FROM state ORDER BY key");
    if (!r) return r.err();
    for (int i = 0; i < pg_rows(*r); ++i) snap.state.emplace(pg_text(*r, i, 0), pg_text(*r, i, 1));
  }
  {
    auto r = rows("SELECT name, json FROM users ORDER BY name");
    if (!r) return r.err();
    for (int i = 0; i < pg_rows(*r); ++i)
      if (json::value v = parse_or_null(pg_text(*r, i, 1)); v.is_object())
        snap.users.emplace(pg_text(*r, i, 0), std::move(v));
  }
  snap.hosts.reserve(hosts.size());
  for (auto& [name, h] : hosts) snap.hosts.push_back(std::move(h));
  return snap;
}

}  // namespace detail
}  // namespace heartbeat::server
