// The notification outbox several hbd nodes share (the outbox table of the
// PostgreSQL store): the leader writes each notification with its stable id
// before sending it and marks it sent afterwards; a new leader reads what is not
// marked. Used by the notifier's worker thread only, on a connection of its own
// (opened when first needed, again after a failure).
#pragma once

#include <string>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/server/detail/pg.hpp"

namespace heartbeat::server {

class pg_outbox {
 public:
  struct entry {
    std::string id;
    std::string record;  // the notification as JSON (notify::notification_record)
  };

  pg_outbox(std::string conninfo, std::string node)
      : conninfo_(std::move(conninfo)), node_(std::move(node)) {}

  // `event_ts`: when what the notification tells of happened (as this node saw it).
  result<void> insert(const std::string& id, double event_ts, const std::string& key,
                      const std::string& record) {
    return run(
        "INSERT INTO outbox(id, node, created, event_ts, key, notification) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (id) DO NOTHING",
        {id, node_, detail::pg_number(clock::wall_now()), detail::pg_number(event_ts), key, record});
  }

  result<void> mark_sent(const std::string& id) {
    return run("UPDATE outbox SET sent = $2, sent_by = $3 WHERE id = $1 AND sent IS NULL",
               {id, detail::pg_number(clock::wall_now()), node_});
  }

  // Entries no node marked sent, oldest first.
  result<std::vector<entry>> unsent(std::size_t limit = 1000) {
    auto r = query("SELECT id, notification FROM outbox WHERE sent IS NULL ORDER BY created LIMIT $1",
                   {std::to_string(limit)});
    if (!r) return r.err();
    std::vector<entry> out;
    for (int i = 0; i < detail::pg_rows(*r); ++i)
      out.push_back(entry{detail::pg_text(*r, i, 0), detail::pg_text(*r, i, 1)});
    return out;
  }

  // Whether any node recorded a notification with `key` that happened within `window` seconds
  // of `event_ts`.
  result<bool> recorded_near(const std::string& key, double event_ts, double window) {
    auto r = query("SELECT 1 FROM outbox WHERE key = $1 AND event_ts BETWEEN $2 AND $3 LIMIT 1",
                   {key, detail::pg_number(event_ts - window), detail::pg_number(event_ts + window)});
    if (!r) return r.err();
    return detail::pg_rows(*r) > 0;
  }

 private:
  std::string conninfo_, node_;
  detail::pg_conn db_;

  result<detail::pg_result> query(const std::string& sql, const std::vector<detail::pg_param>& p) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!db_.ok()) {
        if (auto r = db_.open(conninfo_, "hbd " + node_ + " outbox"); !r) return r.err();
        (void)db_.exec("SET statement_timeout = 5000");
      }
      auto r = db_.query(sql, p);
      if (r || db_.ok()) return r;
      db_.close();  // broken connection: one more try on a new one
    }
    return make_error("pg_broken", "the database went away");
  }
  result<void> run(const std::string& sql, const std::vector<detail::pg_param>& p) {
    auto r = query(sql, p);
    if (!r) return r.err();
    return {};
  }
};

}  // namespace heartbeat::server
