// The SQL of the store's event log (server/event_log.hpp): schema, insert, pruning and the
// filtered, role-limited query. Run by the store's writer (writes) and reader (queries) threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/server/detail/sqlite.hpp"
#include "heartbeat/server/event_log.hpp"

namespace heartbeat::server {

namespace detail {

inline constexpr const char* events_schema =
    "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, ts REAL NOT NULL, host TEXT NOT NULL,"
    " metric TEXT NOT NULL, kind TEXT NOT NULL, result TEXT NOT NULL, reason TEXT NOT NULL,"
    " json TEXT NOT NULL);"
    // host (+ metric) and a time range: the "why was I (not) paged about this" question.
    "CREATE INDEX IF NOT EXISTS events_host ON events(host, metric, ts);"
    // Everything in a time range, newest first; and one result (e.g. every suppression).
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts);"
    "CREATE INDEX IF NOT EXISTS events_result ON events(result, ts);";

inline constexpr const char* events_insert =
    "INSERT INTO events(ts, host, metric, kind, result, reason, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
inline constexpr const char* events_prune = "DELETE FROM events WHERE ts < ?1";
inline constexpr const char* events_drop_host = "DELETE FROM events WHERE host = ?1";

inline int insert_event(sqlite_stmt& st, const event_row& e) {
  return st.bind(1, e.ts)
      .bind(2, e.host)
      .bind(3, e.metric)
      .bind(4, e.kind)
      .bind(5, e.result)
      .bind(6, e.reason)
      .bind(7, e.json)
      .run();
}

// Runs one query on the reader's connection: {"events": [newest first, each with "id"], "count"}.
inline result<json::value> query_events(sqlite_db& db, const event_query& q) {
  std::string sql = "SELECT id, host, json FROM events WHERE ts >= ?1 AND ts <= ?2";
  int next = 3;
  std::vector<std::pair<int, const std::string*>> binds;
  for (auto [col, val] : {std::pair{"host", &q.host}, std::pair{"metric", &q.metric},
                          std::pair{"kind", &q.kind}, std::pair{"result", &q.result}}) {
    if (val->empty()) continue;
    sql += std::string(" AND ") + col + " = ?" + std::to_string(next);
    binds.emplace_back(next++, val);
  }
  // Rows the caller may not see are skipped while stepping, so the limit counts visible rows.
  sql += " ORDER BY ts DESC, id DESC";
  if (!q.visible) sql += " LIMIT ?" + std::to_string(next);
  auto st = db.prepare(sql);
  if (!st) return st.err();
  st->bind(1, q.since).bind(2, q.until);
  for (const auto& [i, v] : binds) st->bind(i, std::string_view(*v));
  if (!q.visible) st->bind(next, static_cast<std::int64_t>(q.limit));
  json::value list = json::value::array();
  int rc = SQLITE_DONE;
  while (list.size() < q.limit && (rc = st->step()) == SQLITE_ROW) {
    if (q.visible) {
      std::string_view host = st->text(1);
      if (host.empty() || !q.visible->count(std::string(host))) continue;
    }
    auto v = json::parse(st->text(2));
    if (!v || !v->is_object()) continue;
    json::value e = json::value::object({{"id", st->integer(0)}});
    for (auto& [k, val] : v->as_object()) e.set(k, std::move(val));
    list.push_back(std::move(e));
  }
  if (list.size() < q.limit && rc != SQLITE_DONE)
    return make_error("store_sql", "events query failed: " + db.errmsg());
  const std::size_t n = list.size();
  return json::value::object({{"events", std::move(list)}, {"count", n}});
}

}  // namespace detail
}  // namespace heartbeat::server
