// One batch of the PostgreSQL store's writes, applied with a few statements:
// upserts are folded per key (the last write of a key wins, as it would one by
// one) and sent as arrays through unnest(), history rows in one multi-row
// insert; a host removal or a user removal ends the run of folded writes before
// it, so deletes and writes keep their order. Writer thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/server/detail/pg.hpp"
#include "heartbeat/server/host_json.hpp"

namespace heartbeat::server::detail {

enum class pg_op_kind : std::uint8_t {
  host,
  host_row,  // put_host_row: `text` the row, `key` the connections (host_json.hpp)
  plugin,
  message,
  alert,
  command,
  drop_host,
  state,
  user,
  forget_user,
  event
};

struct pg_op {
  pg_op_kind kind = pg_op_kind::host;
  double ts = 0;
  std::string host;
  std::string key;   // plugin, metric_path (alerts, events), command id, state key or user name
  std::string text;  // JSON text (an event's kind, result and reason are read from it)
};

class pg_batch {
 public:
  // Applies `ops` in order inside the caller's transaction. Errors stop at the first failed
  // statement (the caller rolls back).
  result<void> apply(pg_conn& db, std::vector<pg_op>& ops) {
    clear();
    for (auto& o : ops) {
      switch (o.kind) {
        case pg_op_kind::host: add_host(o); break;
        case pg_op_kind::host_row:
          // As in the SQLite store: connections never leave a host while hbd runs, no cleanup.
          for_each_connection_part(o.key, [&](std::string_view family, std::string_view conn) {
            keep(conns_, std::pair{o.host, std::string(family)}, o.ts, std::string(conn));
          });
          keep(hosts_, o.host, o.ts, o.text);
          break;
        case pg_op_kind::plugin:
          keep(latest_, std::pair{o.host, o.key}, o.ts, o.text);
          hist_.emplace_back(o.host, o.key, o.ts, o.text);
          break;
        case pg_op_kind::message: msgs_.emplace_back(o.host, o.ts, o.text); break;
        case pg_op_kind::alert: keep(alerts_, std::pair{o.host, o.key}, o.ts, o.text); break;
        case pg_op_kind::command: {
          auto& slot = cmds_[o.key];
          if (slot.ts <= o.ts) slot = cmd_row{o.host, o.ts, o.text};
          break;
        }
        case pg_op_kind::state: keep(state_, o.key, o.ts, o.text); break;
        case pg_op_kind::user: keep(users_, o.key, o.ts, o.text); break;
        case pg_op_kind::event: events_.emplace_back(o.host, o.key, o.ts, o.text); break;
        case pg_op_kind::drop_host:
        case pg_op_kind::forget_user: {
          if (auto r = flush(db); !r) return r;
          if (o.kind == pg_op_kind::forget_user) {
            if (auto r = db.exec("DELETE FROM users WHERE name = $1", {o.key}); !r) return r;
            break;
          }
          for (const char* t :
               {"DELETE FROM hosts WHERE name = $1", "DELETE FROM connections WHERE host = $1",
                "DELETE FROM plugin_latest WHERE host = $1", "DELETE FROM plugin_history WHERE host = $1",
                "DELETE FROM alerts WHERE host = $1", "DELETE FROM commands WHERE host = $1",
                "DELETE FROM messages WHERE host = $1", "DELETE FROM events WHERE host = $1"})
            if (auto r = db.exec(t, {o.host}); !r) return r;
          break;
        }
      }
    }
    return flush(db);
  }

 private:
  struct row {
    double ts = -1;
    std::string text;
  };
  struct cmd_row {
    std::string host;
    double ts = -1;
    std::string text;
  };
  std::map<std::string, row> hosts_;
  std::map<std::pair<std::string, std::string>, row> conns_;
  std::map<std::string, double> conn_clear_;  // host -> newest host write: older connections go
  std::map<std::pair<std::string, std::string>, row> latest_, alerts_;
  std::vector<std::tuple<std::string, std::string, double, std::string>> hist_, events_;
  std::vector<std::tuple<std::string, double, std::string>> msgs_;
  std::map<std::string, cmd_row> cmds_;
  std::map<std::string, row> state_, users_;

  void clear() {
    hosts_.clear();
    conns_.clear();
    conn_clear_.clear();
    latest_.clear();
    alerts_.clear();
    hist_.clear();
    events_.clear();
    msgs_.clear();
    cmds_.clear();
    state_.clear();
    users_.clear();
  }

  template <class Map, class Key>
  static void keep(Map& m, Key&& k, double ts, const std::string& text) {
    auto& slot = m[std::forward<Key>(k)];
    if (slot.ts <= ts) slot = row{ts, text};
  }

  // As the SQLite store: connections get rows of their own, the host row keeps the rest.
  void add_host(const pg_op& o) {
    auto parsed = json::parse(o.text);
    if (!parsed || !parsed->is_object()) return keep(hosts_, o.host, o.ts, o.text);
    json::value& h = *parsed;
    if (json::value* conns = h.find("connections"); conns && conns->is_array()) {
      for (const auto& c : conns->as_array()) {
        std::string family = c.string_or("family", "");
        if (family.empty()) continue;
        keep(conns_, std::pair{o.host, family}, o.ts, c.dump());
      }
      auto& clear_ts = conn_clear_[o.host];
      clear_ts = std::max(clear_ts, o.ts);
      h.erase("connections");
    }
    keep(hosts_, o.host, o.ts, h.dump());
  }

  // The folded writes so far, one statement per table. A row older than what is stored
  // (another node wrote the same key later) is left alone.
  result<void> flush(pg_conn& db) {
    if (!hosts_.empty()) {
      pg_array a, b, c;
      for (auto& [k, v] : hosts_) a.add(k), b.add(v.ts), c.add(v.text);
      if (auto r = db.exec(
              "INSERT INTO hosts(name, updated, json) SELECT * FROM unnest($1::text[], $2::float8[], "
              "$3::text[]) ON CONFLICT (name) DO UPDATE SET updated = excluded.updated, json = excluded.json "
              "WHERE hosts.updated <= excluded.updated",
              {a.take(), b.take(), c.take()});
          !r)
        return r;
    }
    if (!conns_.empty()) {
      pg_array a, b, c, d;
      for (auto& [k, v] : conns_) a.add(k.first), b.add(k.second), c.add(v.ts), d.add(v.text);
      if (auto r = db.exec(
              "INSERT INTO connections(host, family, updated, json) SELECT * FROM unnest($1::text[], "
              "$2::text[], $3::float8[], $4::text[]) ON CONFLICT (host, family) DO UPDATE SET updated = "
              "excluded.updated, json = excluded.json WHERE connections.updated <= excluded.updated",
              {a.take(), b.take(), c.take(), d.take()});
          !r)
        return r;
    }
    if (!conn_clear_.empty()) {
      pg_array a, b;
      for (auto& [k, ts] : conn_clear_) a.add(k), b.add(ts);
      if (auto r =
              db.exec("DELETE FROM connections c USING unnest($1::text[], $2::float8[]) AS x(host, ts) WHERE "
                      "c.host = x.host AND c.updated < x.ts",
                      {a.take(), b.take()});
          !r)
        return r;
    }
    if (!latest_.empty()) {
      pg_array a, b, c, d;
      for (auto& [k, v] : latest_) a.add(k.first), b.add(k.second), c.add(v.ts), d.add(v.text);
      if (auto r =
              db.exec("INSERT INTO plugin_latest(host, plugin, ts, data) SELECT * FROM unnest($1::text[], "
                      "$2::text[], $3::float8[], $4::text[]) ON CONFLICT (host, plugin) DO UPDATE SET ts = "
                      "excluded.ts, data = excluded.data WHERE plugin_latest.ts <= excluded.ts",
                      {a.take(), b.take(), c.take(), d.take()});
          !r)
        return r;
    }
    if (!hist_.empty()) {
      pg_array a, b, c, d;
      for (auto& [h, p, ts, t] : hist_) a.add(h), b.add(p), c.add(ts), d.add(t);
      if (auto r =
              db.exec("INSERT INTO plugin_history(host, plugin, ts, data) SELECT * FROM unnest($1::text[], "
                      "$2::text[], $3::float8[], $4::text[]) ON CONFLICT DO NOTHING",
                      {a.take(), b.take(), c.take(), d.take()});
          !r)
        return r;
    }
    if (!events_.empty()) {
      pg_array a, b, c, d;
      for (auto& [h, m, ts, t] : events_) a.add(h), b.add(m), c.add(ts), d.add(t);
      if (auto r = db.exec(
              "INSERT INTO events(ts, node, host, metric, kind, result, reason, json) SELECT x.ts, "
              "current_setting('application_name'), x.host, x.metric, coalesce(x.j::jsonb->>'kind', ''), "
              "coalesce(x.j::jsonb->>'result', ''), coalesce(x.j::jsonb->>'reason', ''), x.j FROM "
              "unnest($1::text[], $2::text[], $3::float8[], $4::text[]) AS x(host, metric, ts, j)",
              {a.take(), b.take(), c.take(), d.take()});
          !r)
        return r;
    }
    if (!alerts_.empty()) {
      pg_array a, b, c, d;
      for (auto& [k, v] : alerts_) a.add(k.first), b.add(k.second), c.add(v.ts), d.add(v.text);
      if (auto r = db.exec(
              "INSERT INTO alerts(host, metric_path, updated, json) SELECT * FROM unnest($1::text[], "
              "$2::text[], $3::float8[], $4::text[]) ON CONFLICT (host, metric_path) DO UPDATE SET updated = "
              "excluded.updated, json = excluded.json WHERE alerts.updated <= excluded.updated",
              {a.take(), b.take(), c.take(), d.take()});
          !r)
        return r;
    }
    if (!cmds_.empty()) {
      pg_array a, b, c, d;
      for (auto& [id, v] : cmds_) a.add(id), b.add(v.host), c.add(v.ts), d.add(v.text);
      if (auto r = db.exec(
              "INSERT INTO commands(id, host, updated, json) SELECT * FROM unnest($1::text[], $2::text[], "
              "$3::float8[], $4::text[]) ON CONFLICT (id) DO UPDATE SET host = excluded.host, updated = "
              "excluded.updated, json = excluded.json WHERE commands.updated <= excluded.updated",
              {a.take(), b.take(), c.take(), d.take()});
          !r)
        return r;
    }
    for (auto* m : {&state_, &users_}) {
      if (m->empty()) continue;
      pg_array a, b, c;
      for (auto& [k, v] : *m) a.add(k), b.add(v.ts), c.add(v.text);
      std::string sql =
          m == &state_
              ? "INSERT INTO state(key, updated, value) SELECT * FROM unnest($1::text[], $2::float8[], "
                "$3::text[]) ON CONFLICT (key) DO UPDATE SET updated = excluded.updated, value = "
                "excluded.value"
              : "INSERT INTO users(name, updated, json) SELECT * FROM unnest($1::text[], $2::float8[], "
                "$3::text[]) ON CONFLICT (name) DO UPDATE SET updated = excluded.updated, json = "
                "excluded.json";
      if (auto r = db.exec(sql, {a.take(), b.take(), c.take()}); !r) return r;
    }
    if (!msgs_.empty()) {
      pg_array a, b, c;
      for (auto& [h, ts, t] : msgs_) a.add(ts), b.add(h), c.add(t);
      if (auto r =
              db.exec("INSERT INTO messages(ts, host, json) SELECT * FROM unnest($1::float8[], $2::text[], "
                      "$3::text[])",
                      {a.take(), b.take(), c.take()});
          !r)
        return r;
    }
    clear();
    return {};
  }
};

}  // namespace heartbeat::server::detail
