// The PostgreSQL store (`store: postgresql://...`): what the SQLite store keeps,
// in a database several hbd nodes share. The io thread (the only producer)
// enqueues writes into a bounded queue; a writer thread commits them in batches
// (detail/store_pg_batch.hpp) and, when the server goes away, keeps the batch,
// reconnects with backoff and catches up (writes beyond the queue are dropped
// and counted). History queries run on a reader thread with its own connection;
// their callbacks are posted back to the io thread. A server that cannot be
// reached at start is retried in the background: hbd runs from its configuration.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/spsc_queue.hpp"
#include "heartbeat/server/detail/pg.hpp"
#include "heartbeat/server/detail/store_pg_batch.hpp"
#include "heartbeat/server/detail/store_pg_schema.hpp"
#include "heartbeat/server/store_backend.hpp"

namespace heartbeat::server {

// The writer's commits do not wait for the server's WAL flush: as the SQLite store's
// synchronous=NORMAL, a crash of hbd loses nothing committed, a crash of the database server
// may lose the last fraction of a second (wal_writer_delay). `options` in the connection string
// replaces this.
inline constexpr const char* pg_writer_options = "-c synchronous_commit=off";

struct pg_store_options {
  std::string conninfo;                    // any libpq connection string
  std::string application_name = "hbd";    // shown in pg_stat_activity (the node's name)
  double history_retention = 7 * 86400.0;  // seconds of plugin history kept
  std::size_t history_samples = 100;       // samples per host and plugin returned by load()
  std::size_t messages_loaded = 30;
  std::size_t messages_kept = 1000;
  // Writes held while the server is away (about 20 s of 100,000 hosts' traffic).
  std::size_t queue_capacity = 131072;
  std::size_t batch_rows = 5000;
  std::chrono::milliseconds commit_interval{200};
  std::chrono::seconds prune_interval{60};
  std::size_t query_queue_capacity = 256;
  std::chrono::milliseconds connect_wait{5000};  // how long load() retries an unreachable server
  std::chrono::milliseconds max_backoff{5000};   // reconnect attempts: 250 ms doubling up to this
};

class pg_store : public threaded_store {
 public:
  explicit pg_store(pg_store_options o)
      : opt_(std::move(o)),
        q_(opt_.queue_capacity ? opt_.queue_capacity : 1),
        qq_(opt_.query_queue_capacity ? opt_.query_queue_capacity : 1),
        where_(detail::describe_conninfo(opt_.conninfo)) {}
  pg_store(const pg_store&) = delete;
  pg_store& operator=(const pg_store&) = delete;
  ~pg_store() override { stop(); }

  const pg_store_options& options() const noexcept { return opt_; }
  // The server as logs show it (no password).
  const std::string& where() const noexcept { return where_; }
  // Whether the writer's connection is up (any thread).
  bool connected() const noexcept { return connected_.load(); }

  // Connects (retrying up to connect_wait), creates or migrates the schema and reads the
  // snapshot. An unreachable server gives an empty snapshot: the writer keeps trying.
  result<store_snapshot> load() override {
    auto deadline = std::chrono::steady_clock::now() + opt_.connect_wait;
    std::chrono::milliseconds backoff{250};
    for (;;) {
      auto r = connect_writer();
      if (r) break;
      if (r.err().code != "pg_connect") return r.err();  // reachable, but the schema is wrong
      if (std::chrono::steady_clock::now() + backoff > deadline) {
        log::warn("store: ", where_, " unreachable (", r.err().message,
                  "); starting without the stored state, retrying in the background");
        return store_snapshot{};
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, opt_.max_backoff);
    }
    return detail::read_pg_snapshot(db_, opt_.history_samples, opt_.messages_loaded);
  }

  result<void> start(post_function post = {}) override {
    if (writer_.joinable()) return {};
    post_ = std::move(post);
    stop_.store(false);
    writer_ = std::thread([this] { run_writer(); });
    reader_ = std::thread([this] { run_reader(); });
    return {};
  }

  void stop() override {
    if (writer_.joinable()) {
      stop_.store(true);
      q_.wake();
      qq_.wake();
      writer_.join();
      reader_.join();
    }
    db_.close();
    reader_db_.close();
    connected_.store(false);
  }

  bool put_host(std::string_view name, std::string host_json, double ts) override {
    return push(detail::pg_op_kind::host, ts, name, {}, std::move(host_json));
  }
  bool put_host_row(std::string_view name, std::string row, std::string_view conns, double ts) override {
    return room_for_host_row() && push(detail::pg_op_kind::host_row, ts, name, conns, std::move(row));
  }
  bool put_plugin(std::string_view host, std::string_view plugin, double ts, std::string data_json) override {
    if (!admit_history()) return false;
    return push(detail::pg_op_kind::plugin, ts, host, plugin, std::move(data_json));
  }
  bool put_message(std::string_view host, double ts, std::string message_json) override {
    return push(detail::pg_op_kind::message, ts, host, {}, std::move(message_json));
  }
  bool put_alert(std::string_view host, std::string_view metric_path, double ts,
                 std::string alert_json) override {
    return push(detail::pg_op_kind::alert, ts, host, metric_path, std::move(alert_json));
  }
  bool put_command(std::string_view host, std::string_view id, double ts, std::string command_json) override {
    return push(detail::pg_op_kind::command, ts, host, id, std::move(command_json));
  }
  bool drop_host(std::string_view host, double ts) override {
    return push(detail::pg_op_kind::drop_host, ts, host, {}, {});
  }
  bool put_state(std::string_view key, std::string value, double ts) override {
    return push(detail::pg_op_kind::state, ts, {}, key, std::move(value));
  }
  bool put_user(std::string_view name, std::string user_json, double ts) override {
    return push(detail::pg_op_kind::user, ts, {}, name, std::move(user_json));
  }
  bool forget_user(std::string_view name, double ts) override {
    return push(detail::pg_op_kind::forget_user, ts, {}, name, {});
  }

  bool put_event(event_row e) override {
    return push(detail::pg_op_kind::event, e.ts, e.host, e.metric, std::move(e.json));
  }

  void query_events(event_query q, std::function<void(result<json::value>)> cb) override {
    query job;
    job.events = std::make_shared<event_query>(std::move(q));
    job.events_cb = std::move(cb);
    if (!reader_.joinable() || !qq_.push(std::move(job))) {
      queries_dropped_.fetch_add(1, std::memory_order_relaxed);
      auto fail = [cb = std::move(job.events_cb)] {
        cb(make_error("store_busy", "events query refused: store busy or stopped"));
      };
      run_posted(post_, std::move(fail));
    }
  }

  void query_history(std::string_view host, std::string_view plugin, double since, double until,
                     std::size_t limit, history_callback cb) override {
    query q{std::string(host), std::string(plugin), since, until, limit, std::move(cb), nullptr, {}};
    if (!reader_.joinable() || !qq_.push(std::move(q))) {
      queries_dropped_.fetch_add(1, std::memory_order_relaxed);
      auto fail = [cb = std::move(q.cb)] {
        cb(make_error("store_busy", "history query refused: store busy or stopped"));
      };
      run_posted(post_, std::move(fail));
    }
  }

  std::uint64_t reconnects() const noexcept { return reconnects_.load(std::memory_order_relaxed); }

 private:
  void wake_writer() override { q_.wake(); }
  std::size_t queue_depth() const override { return q_.size(); }
  std::size_t queue_capacity() const override { return q_.capacity(); }

  struct query {
    std::string host, plugin;
    double since = 0, until = 0;
    std::size_t limit = 0;
    history_callback cb;
    std::shared_ptr<event_query> events;  // set: an event log query instead
    std::function<void(result<json::value>)> events_cb;
  };

  bool push(detail::pg_op_kind k, double ts, std::string_view host, std::string_view key, std::string text) {
    if (!q_.push(detail::pg_op{k, ts, std::string(host), std::string(key), std::move(text)})) {
      note_dropped();
      return false;
    }
    queued_.fetch_add(1, std::memory_order_release);
    return true;
  }

  void note_error(const std::string& what) {
    std::uint64_t n = errors_.fetch_add(1, std::memory_order_relaxed);
    if (n < 10 || n % 1000 == 0) log::error("store: ", what);
  }

  // Opens the writer's connection and brings the schema up to date (starting thread, then
  // the writer thread).
  result<void> connect_writer() {
    if (db_.ok()) return {};
    if (auto r = db_.open(opt_.conninfo, opt_.application_name, pg_writer_options); !r) return r;
    if (auto r = detail::migrate_pg_store(db_); !r) {
      db_.close();
      return r;
    }
    connected_.store(true);
    return {};
  }

  // One transaction for the batch. False: the connection broke (the batch stays to be
  // retried); a statement the server refuses is retried write by write, and what still
  // fails is counted and dropped.
  bool commit_batch(std::vector<detail::pg_op>& batch) {
    auto r = db_.exec("BEGIN");
    if (r) r = applier_.apply(db_, batch);
    if (r) r = db_.exec("COMMIT");
    if (!r && !db_.ok()) {
      lost_connection(r.err().message);
      return false;
    }
    if (!r) {
      (void)db_.exec("ROLLBACK");
      note_error("batch of " + std::to_string(batch.size()) + " writes failed (" + r.err().message +
                 "); retrying them one by one");
      for (auto& o : batch) {
        std::vector<detail::pg_op> one;
        one.push_back(std::move(o));
        auto r1 = applier_.apply(db_, one);
        if (!r1 && !db_.ok()) {
          lost_connection(r1.err().message);
          return false;  // the rest of the batch is retried after reconnecting
        }
        if (!r1) {
          note_error("write of " + one.front().host + " dropped: " + r1.err().message);
          dropped_.fetch_add(1, std::memory_order_relaxed);
        }
      }
    } else {
      rows_written_.fetch_add(batch.size(), std::memory_order_relaxed);
      transactions_.fetch_add(1, std::memory_order_relaxed);
    }
    committed_.fetch_add(batch.size(), std::memory_order_release);
    batch.clear();
    std::lock_guard lk(flush_m_);
    flush_cv_.notify_all();
    return true;
  }

  void lost_connection(const std::string& why) {
    if (connected_.exchange(false)) log::warn("store: lost ", where_, ": ", why, "; reconnecting");
    db_.close();
  }

  void prune() {
    double cutoff = clock::wall_now() - opt_.history_retention;
    double now = clock::wall_now();
    std::uint64_t n = 0;
    // Bounded rounds: a long backlog of old history does not hold the writer for minutes.
    const std::pair<const char*, detail::pg_param> steps[] = {
        {"DELETE FROM plugin_history WHERE ctid = ANY(ARRAY(SELECT ctid FROM plugin_history WHERE ts < $1 "
         "LIMIT 50000))",
         detail::pg_number(cutoff)},
        {"DELETE FROM events WHERE ctid = ANY(ARRAY(SELECT ctid FROM events WHERE ts < $1 LIMIT 50000))",
         detail::pg_number(cutoff)},
        {"DELETE FROM messages WHERE id <= (SELECT max(id) FROM messages) - $1",
         std::to_string(opt_.messages_kept)},
        {"DELETE FROM commands WHERE updated < $1", detail::pg_number(cutoff)},
        {"DELETE FROM sessions WHERE expires < $1", detail::pg_number(now)},
        {"DELETE FROM cluster_changes WHERE ts < $1", detail::pg_number(now - 3600)},
        {"DELETE FROM outbox WHERE sent IS NOT NULL AND sent < $1", detail::pg_number(cutoff)},
        {"DELETE FROM cluster_nodes WHERE last_seen < $1", detail::pg_number(now - 86400)},
    };
    for (const auto& [sql, p] : steps) {
      auto r = db_.query(sql, {p});
      if (!r) {
        if (!db_.ok()) return lost_connection(r.err().message);
        note_error(std::string("pruning failed: ") + r.err().message);
        continue;
      }
      n += std::strtoull(PQcmdTuples(r->get()), nullptr, 10);
    }
    pruned_.fetch_add(n, std::memory_order_relaxed);
  }

  void run_writer() {
    using sclock = std::chrono::steady_clock;
    std::vector<detail::pg_op> batch;
    batch.reserve(opt_.batch_rows);
    sclock::time_point first{};
    auto next_prune = sclock::now();
    auto next_connect = sclock::now();
    std::chrono::milliseconds backoff{250};
    for (;;) {
      bool stopping = stop_.load();
      while (batch.size() < opt_.batch_rows) {
        auto o = q_.pop();
        if (!o) break;
        if (batch.empty()) first = sclock::now();
        batch.push_back(std::move(*o));
      }
      auto now = sclock::now();
      if (!db_.ok() && (now >= next_connect || stopping)) {
        if (auto r = connect_writer(); r) {
          if (reconnects_.fetch_add(1) > 0 || batch.size() > 0) log::info("store: connected to ", where_);
          backoff = std::chrono::milliseconds(250);
        } else {
          if (backoff == std::chrono::milliseconds(250) || backoff >= opt_.max_backoff)
            log::warn("store: ", where_, ": ", r.err().message, " (retrying)");
          next_connect = now + backoff;
          backoff = std::min(backoff * 2, opt_.max_backoff);
        }
      }
      bool due = !batch.empty() && (batch.size() >= opt_.batch_rows || stopping ||
                                    flush_req_.exchange(false) || now - first >= opt_.commit_interval);
      if (due && db_.ok()) {
        if (!commit_batch(batch)) next_connect = sclock::now();
      }
      if (db_.ok() && batch.empty() && now >= next_prune) {
        prune();
        next_prune = now + opt_.prune_interval;
      }
      if (batch.empty()) {
        std::lock_guard lk(flush_m_);
        flush_cv_.notify_all();
      }
      if (stopping && (batch.empty() || !db_.ok()) && (q_.size() == 0 || !db_.ok())) break;
      if (batch.size() >= opt_.batch_rows && db_.ok()) continue;
      auto wait = db_.ok() ? (batch.empty() ? std::chrono::milliseconds(1000)
                                            : std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  first + opt_.commit_interval - now))
                           : std::chrono::duration_cast<std::chrono::milliseconds>(next_connect - now);
      wait = std::clamp(wait, std::chrono::milliseconds(1), std::chrono::milliseconds(1000));
      if (q_.size() == 0)
        q_.wait(wait);
      else if (!db_.ok())  // writes wait in the queue: nothing to do until the next attempt
        std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(50)));
    }
    std::size_t lost = batch.size() + q_.size();
    if (lost) {
      dropped_.fetch_add(lost, std::memory_order_relaxed);
      log::error("store: ", where_, " unreachable at shutdown: ", lost, " writes not saved");
    }
    std::lock_guard lk(flush_m_);
    flush_cv_.notify_all();
  }

  void run_reader() {
    for (;;) {
      bool stopping = stop_.load();
      while (auto q = qq_.pop()) {
        if (q->events) {
          auto deliver = [cb = std::move(q->events_cb), r = read_events(*q->events)]() mutable {
            cb(std::move(r));
          };
          queries_.fetch_add(1, std::memory_order_relaxed);
          run_posted(post_, std::move(deliver));
          continue;
        }
        auto res = read_history(*q);
        queries_.fetch_add(1, std::memory_order_relaxed);
        auto deliver = [cb = std::move(q->cb), r = std::move(res)]() mutable { cb(std::move(r)); };
        run_posted(post_, std::move(deliver));
      }
      if (stopping) break;
      qq_.wait(std::chrono::milliseconds(1000));
    }
  }

  // The event log as the SQLite store answers it, each row with the node that wrote it. Rows the
  // caller may not see are skipped while reading, so the limit counts visible rows.
  result<json::value> read_events(const event_query& q) {
    std::string sql = "SELECT id, host, node, json FROM events WHERE ts >= $1 AND ts <= $2";
    std::vector<detail::pg_param> p = {detail::pg_number(q.since),
                                       detail::pg_number(std::min(q.until, 1e300))};
    for (auto [col, val] : {std::pair{"host", &q.host}, std::pair{"metric", &q.metric},
                            std::pair{"kind", &q.kind}, std::pair{"result", &q.result}}) {
      if (val->empty()) continue;
      p.emplace_back(*val);
      sql += std::string(" AND ") + col + " = $" + std::to_string(p.size());
    }
    sql += " ORDER BY ts DESC, id DESC";
    if (!q.visible) {
      p.emplace_back(std::to_string(q.limit));
      sql += " LIMIT $" + std::to_string(p.size());
    } else {
      sql += " LIMIT 100000";
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!reader_db_.ok()) {
        if (auto r = reader_db_.open(opt_.conninfo, opt_.application_name); !r)
          return make_error("store_unavailable", "events query failed: " + r.err().message);
      }
      auto r = reader_db_.query(sql, p);
      if (!r) {
        if (reader_db_.ok()) return make_error("store_sql", "events query failed: " + r.err().message);
        reader_db_.close();  // broken: one more try on a new connection
        continue;
      }
      json::value list = json::value::array();
      for (int i = 0; i < detail::pg_rows(*r) && list.size() < q.limit; ++i) {
        std::string host = detail::pg_text(*r, i, 1);
        if (q.visible && (host.empty() || !q.visible->count(host))) continue;
        auto v = json::parse(detail::pg_text(*r, i, 3));
        if (!v || !v->is_object()) continue;
        json::value e =
            json::value::object({{"id", std::strtoll(detail::pg_text(*r, i, 0).c_str(), nullptr, 10)}});
        for (auto& [k, val] : v->as_object()) e.set(k, std::move(val));
        std::string node = detail::pg_text(*r, i, 2);
        if (node.rfind("hbd ", 0) == 0) node.erase(0, 4);
        e.set("node", node);
        list.push_back(std::move(e));
      }
      const std::size_t n = list.size();
      return json::value::object({{"events", std::move(list)}, {"count", n}});
    }
    return make_error("store_unavailable", "events query failed: the server went away");
  }

  result<std::vector<history_sample>> read_history(const query& q) {
    const std::string sql =
        "SELECT ts, data FROM plugin_history WHERE host = $1 AND plugin = $2 AND ts >= $3 AND ts <= $4 "
        "ORDER BY ts DESC LIMIT $5";
    std::vector<detail::pg_param> p = {q.host, q.plugin, detail::pg_number(q.since),
                                       detail::pg_number(q.until),
                                       q.limit ? detail::pg_param(std::to_string(q.limit)) : std::nullopt};
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!reader_db_.ok()) {
        if (auto r = reader_db_.open(opt_.conninfo, opt_.application_name); !r)
          return make_error("store_unavailable", "history query failed: " + r.err().message);
      }
      auto r = reader_db_.query(sql, p);
      if (r) {
        std::vector<history_sample> rows;
        rows.reserve(static_cast<std::size_t>(detail::pg_rows(*r)));
        for (int i = 0; i < detail::pg_rows(*r); ++i)
          rows.push_back(history_sample{detail::pg_double(*r, i, 0), detail::pg_text(*r, i, 1)});
        return rows;
      }
      if (reader_db_.ok()) return make_error("store_sql", "history query failed: " + r.err().message);
      reader_db_.close();  // broken: one more try on a new connection
    }
    return make_error("store_unavailable", "history query failed: the server went away");
  }

  pg_store_options opt_;
  detail::pg_conn db_;         // writer connection (starting thread, then the writer thread)
  detail::pg_conn reader_db_;  // reader thread
  detail::pg_batch applier_;   // writer thread
  spsc_queue<detail::pg_op> q_;
  spsc_queue<query> qq_;
  std::string where_;
  post_function post_;
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> reconnects_{0};
};

}  // namespace heartbeat::server
