// The durable store: hosts, connections, latest plugin data, plugin history,
// alert state, commands, messages and the event log (event_log.hpp) in
// SQLite (WAL, synchronous=NORMAL) at state_db. load() runs once on the
// starting thread before ingest; afterwards the io thread (the only producer)
// enqueues writes that a writer thread commits in batches, and history and
// event queries run on a reader thread whose callbacks are posted back to the
// io thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/stat.h>

#include "heartbeat/bus/events.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/core/spsc_queue.hpp"
#include "heartbeat/core/string_map.hpp"
#include "heartbeat/server/detail/persist_util.hpp"
#include "heartbeat/server/detail/sqlite.hpp"
#include "heartbeat/server/detail/store_events.hpp"
#include "heartbeat/server/detail/store_schema.hpp"
#include "heartbeat/server/host_json.hpp"
#include "heartbeat/server/store_backend.hpp"
#include "heartbeat/server/store_snapshot.hpp"

namespace heartbeat::server {

struct store_options {
  std::string path;  // state_db (or its alias pickfile); empty: detail::default_state_db()
  double history_retention = 7 * 86400.0;  // seconds of plugin history kept on disk
  std::size_t history_samples = 100;       // samples per host and plugin returned by load()
  std::size_t messages_loaded = 30;        // messages returned by load()
  std::size_t messages_kept = 1000;        // messages kept on disk
  std::size_t queue_capacity = 32768;      // writes in flight between io and writer thread
  std::size_t batch_rows =
      5000;  // commit after this many rows (big batches: fewer WAL writes of index pages) ...
  std::chrono::milliseconds commit_interval{200};  // ... or this long after the batch's first row
  std::chrono::seconds prune_interval{60};
  std::size_t query_queue_capacity = 256;
};

class store : public threaded_store {
 public:
  explicit store(store_options o)
      : opt_(std::move(o)),
        q_(opt_.queue_capacity ? opt_.queue_capacity : 1),
        qq_(opt_.query_queue_capacity ? opt_.query_queue_capacity : 1) {
    if (opt_.path.empty()) opt_.path = detail::default_state_db();
  }
  store(const store&) = delete;
  store& operator=(const store&) = delete;
  ~store() override { stop(); }

  const store_options& options() const noexcept { return opt_; }
  const std::string& path() const noexcept { return opt_.path; }

  // Opens (creating directories and the schema) the database. Starting thread.
  result<void> open() {
    if (db_.is_open()) return {};
    if (auto r = detail::make_dirs(detail::parent_dir(opt_.path)); !r) return r;
    if (auto r = db_.open(opt_.path, false); !r) return r;
    // Users changed through the API are kept here with their password hashes: no access for
    // others (SQLite gives the -wal and -shm files the database file's mode).
    struct stat st {};
    if (::stat(opt_.path.c_str(), &st) == 0 && (st.st_mode & 0007) != 0)
      (void)::chmod(opt_.path.c_str(), st.st_mode & 0770);
    // A 32 MiB page cache keeps the history indexes' hot pages in memory: with SQLite's
    // default 2 MiB every insert re-read index pages through read(2) (measured: a third
    // of the store thread's time under a stream of PLGs).
    for (const char* p : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA temp_store=MEMORY",
                          "PRAGMA cache_size=-32768", "PRAGMA wal_autocheckpoint=16384"})
      if (auto r = db_.exec(p); !r) return r;
    if (auto r = detail::create_store_schema(db_, opt_.path); !r) {
      db_.close();
      return r;
    }
    return detail::prepare_store_writes(db_, stmts_);
  }

  // Reads everything the registry restores from (synchronous; before start()).
  result<store_snapshot> load() override {
    if (auto r = open(); !r) return r.err();
    return detail::read_store_snapshot(db_, opt_.history_samples, opt_.messages_loaded);
  }

  // Starts the writer and the history reader. `post` delivers query callbacks
  // to the io thread; without it callbacks run on the reader thread.
  result<void> start(post_function post = {}) override {
    if (writer_.joinable()) return {};
    if (auto r = open(); !r) return r;
    if (auto r = reader_db_.open(opt_.path, true); !r) return r;
    post_ = std::move(post);
    stop_.store(false);
    writer_ = std::thread([this] { run_writer(); });
    reader_ = std::thread([this] { run_reader(); });
    return {};
  }

  // Commits everything queued, then stops both threads (io thread, at shutdown).
  void stop() override {
    if (writer_.joinable()) {
      stop_.store(true);
      q_.wake();
      qq_.wake();
      writer_.join();
      reader_.join();
    }
    stmts_ = {};
    series_.clear();
    series_cached_ = 0;
    latest_.clear();
    if (db_.is_open()) {
      (void)db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      db_.close();
    }
    reader_db_.close();
  }

  // Writes: io thread only; they never block (false: dropped, and counted).

  bool put_host(std::string_view name, std::string host_json, double ts) override {
    return push(op{op_kind::host, ts, std::string(name), {}, std::move(host_json)});
  }
  bool put_host_row(std::string_view name, std::string row, std::string_view conns, double ts) override {
    return room_for_host_row() &&
           push(op{op_kind::host_row, ts, std::string(name), std::string(conns), std::move(row)});
  }
  bool put_plugin(std::string_view host, std::string_view plugin, double ts, std::string data_json) override {
    if (!admit_history()) return false;
    return push(op{op_kind::plugin, ts, std::string(host), std::string(plugin), std::move(data_json)});
  }
  bool put_message(std::string_view host, double ts, std::string message_json) override {
    return push(op{op_kind::message, ts, std::string(host), {}, std::move(message_json)});
  }
  bool put_alert(std::string_view host, std::string_view metric_path, double ts,
                 std::string alert_json) override {
    return push(op{op_kind::alert, ts, std::string(host), std::string(metric_path), std::move(alert_json)});
  }
  bool put_command(std::string_view host, std::string_view id, double ts, std::string command_json) override {
    return push(op{op_kind::command, ts, std::string(host), std::string(id), std::move(command_json)});
  }
  bool drop_host(std::string_view host, double ts) override {
    return push(op{op_kind::drop_host, ts, std::string(host), {}, {}});
  }
  bool put_state(std::string_view key, std::string value, double ts) override {
    return push(op{op_kind::state, ts, {}, std::string(key), std::move(value)});
  }
  // A user changed through the API (the record holds the password hash: the database file is
  // made unreadable for others at open()); forget_user() removes the record.
  bool put_user(std::string_view name, std::string user_json, double ts) override {
    return push(op{op_kind::user, ts, {}, std::string(name), std::move(user_json)});
  }
  bool forget_user(std::string_view name, double ts) override {
    return push(op{op_kind::forget_user, ts, {}, std::string(name), {}});
  }
  // One row of the event log (pruned with the history by history_retention).
  bool put_event(event_row e) override {
    op o{op_kind::event, e.ts, {}, {}, {}};
    o.event = std::make_unique<event_row>(std::move(e));
    return push(std::move(o));
  }

  // Samples of `plugin` on `host` with since <= ts <= until, newest first, at
  // most `limit` (0: no limit). io thread; the callback runs via `post`.
  // Writes still in the open batch (at most commit_interval old) are not seen.
  void query_history(std::string_view host, std::string_view plugin, double since, double until,
                     std::size_t limit, history_callback cb) override {
    query q{std::string(host), std::string(plugin), since, until, limit, std::move(cb)};
    if (!reader_.joinable() || !qq_.push(std::move(q))) {
      queries_dropped_.fetch_add(1, std::memory_order_relaxed);
      auto fail = [cb = std::move(q.cb)] {
        cb(make_error("store_busy", "history query refused: store busy or stopped"));
      };
      run_posted(post_, std::move(fail));
    }
  }

  // The event log's rows matching `q`, newest first: {"events": [...], "count"}. io thread; the
  // callback runs via `post`. Like history, the open batch is not seen yet.
  void query_events(event_query q, std::function<void(result<json::value>)> cb) override {
    query job;
    job.run = [q = std::move(q), cb, this](detail::sqlite_db& db) {
      auto deliver = [cb, r = detail::query_events(db, q)]() mutable { cb(std::move(r)); };
      run_posted(post_, std::move(deliver));
    };
    if (!reader_.joinable() || !qq_.push(std::move(job))) {
      queries_dropped_.fetch_add(1, std::memory_order_relaxed);
      auto fail = [cb] { cb(make_error("store_busy", "events query refused: store busy or stopped")); };
      run_posted(post_, std::move(fail));
    }
  }

  // Runs retention now (tests; the writer does it every prune_interval).
  void set_prune_clock(std::function<double()> now) { prune_clock_ = std::move(now); }

 private:
  void wake_writer() override { q_.wake(); }
  std::size_t queue_depth() const override { return q_.size(); }
  std::size_t queue_capacity() const override { return q_.capacity(); }

  enum class op_kind : std::uint8_t {
    host,
    host_row,  // put_host_row: `text` the row, `key` the connections
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
  struct op {
    op_kind kind = op_kind::host;
    double ts = 0;
    std::string host;
    std::string key;                             // plugin, metric_path, command id or state key
    std::string text;                            // JSON text
    std::unique_ptr<event_row> event = nullptr;  // op_kind::event (rare: kept out of line)
  };
  struct query {
    std::string host, plugin;
    double since = 0, until = 0;
    std::size_t limit = 0;
    history_callback cb;
    std::function<void(detail::sqlite_db&)> run = nullptr;  // other queries (the event log)
  };

  bool push(op&& o) {
    if (!q_.push(std::move(o))) {
      note_dropped();
      return false;
    }
    queued_.fetch_add(1, std::memory_order_release);
    return true;
  }

  // The writer thread: applies queued writes in batched transactions and prunes by retention.

  void note_error(const char* what) {
    std::uint64_t n = errors_.fetch_add(1, std::memory_order_relaxed);
    if (n < 10 || n % 1000 == 0) log::error("store: ", what, " failed: ", db_.errmsg());
  }

  void check(int rc, const char* what) {
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) note_error(what);
  }

  void apply(op& o) {
    detail::store_statements& s = stmts_;
    switch (o.kind) {
      case op_kind::host: {
        // Connections get rows of their own; the host row keeps the rest.
        auto parsed = json::parse(o.text);
        if (parsed && parsed->is_object()) {
          json::value& h = *parsed;
          if (json::value* conns = h.find("connections"); conns && conns->is_array()) {
            std::string text;
            for (const auto& c : conns->as_array()) {
              std::string family = c.string_or("family", "");
              if (family.empty()) continue;
              text.clear();
              c.dump_to(text);
              check(s.conn.bind(1, o.host).bind(2, family).bind(3, o.ts).bind(4, text).run(),
                    "connection write");
            }
            // A connection no longer listed (e.g. after a restart of the host) goes away.
            check(s.conn_clear.bind(1, o.host).bind(2, o.ts).run(), "connection cleanup");
            h.erase("connections");
          }
          std::string text = h.dump();
          check(s.host.bind(1, o.host).bind(2, o.ts).bind(3, text).run(), "host write");
        } else {
          check(s.host.bind(1, o.host).bind(2, o.ts).bind(3, o.text).run(), "host write");
        }
        break;
      }
      case op_kind::host_row: {
        // Connections are never dropped from a host while hbd runs (host.hpp: `present` only
        // comes on), so unlike the whole entry of put_host() this needs no cleanup statement.
        for_each_connection_part(o.key, [&](std::string_view family, std::string_view conn) {
          check(s.conn.bind(1, o.host).bind(2, family).bind(3, o.ts).bind(4, conn).run(), "connection write");
        });
        check(s.host.bind(1, o.host).bind(2, o.ts).bind(3, o.text).run(), "host write");
        break;
      }
      case op_kind::plugin: {
        const std::int64_t id = series_id(o.host, o.key);
        if (id < 0) break;
        int rc = s.sample.bind(1, id).bind(2, o.ts).bind(3, o.text).run();
        check(rc, "history write");
        if (rc == SQLITE_DONE) latest_.emplace_back(id, sqlite3_last_insert_rowid(db_.get()));
        break;
      }
      case op_kind::message:
        check(s.message.bind(1, o.ts).bind(2, o.host).bind(3, o.text).run(), "message write");
        break;
      case op_kind::alert:
        check(s.alert.bind(1, o.host).bind(2, o.key).bind(3, o.ts).bind(4, o.text).run(), "alert write");
        break;
      case op_kind::command:
        check(s.command.bind(1, o.key).bind(2, o.host).bind(3, o.ts).bind(4, o.text).run(), "command write");
        break;
      case op_kind::drop_host:
        write_latest();
        for (auto& d : s.drop) check(d.bind(1, o.host).run(), "host removal");
        forget_series(o.host);
        break;
      case op_kind::state:
        check(s.state.bind(1, o.key).bind(2, o.ts).bind(3, o.text).run(), "state write");
        break;
      case op_kind::user:
        check(s.user.bind(1, o.key).bind(2, o.ts).bind(3, o.text).run(), "user write");
        break;
      case op_kind::forget_user: check(s.user_forget.bind(1, o.key).run(), "user removal"); break;
      case op_kind::event:
        if (o.event) check(detail::insert_event(s.event, *o.event), "event write");
        break;
    }
  }

  void prune() {
    double now = prune_clock_ ? prune_clock_() : clock::wall_now();
    double cutoff = now - opt_.history_retention;
    std::uint64_t n = 0;
    if (auto r = db_.exec("BEGIN"); !r) return note_error("prune");
    check(stmts_.prune_hist.bind(1, first_kept_sample(cutoff)).bind(2, cutoff).run(), "history pruning");
    n += static_cast<std::uint64_t>(sqlite3_changes(db_.get()));
    check(stmts_.prune_msgs.bind(1, static_cast<std::int64_t>(opt_.messages_kept)).run(), "message pruning");
    n += static_cast<std::uint64_t>(sqlite3_changes(db_.get()));
    check(stmts_.prune_cmds.bind(1, cutoff).run(), "command pruning");
    n += static_cast<std::uint64_t>(sqlite3_changes(db_.get()));
    check(stmts_.prune_events.bind(1, cutoff).run(), "event pruning");
    n += static_cast<std::uint64_t>(sqlite3_changes(db_.get()));
    if (auto r = db_.exec("COMMIT"); !r) {
      note_error("prune commit");
      (void)db_.exec("ROLLBACK");
      return;
    }
    pruned_.fetch_add(n, std::memory_order_relaxed);
  }

  // The series id of (host, plugin), added on first use; -1 when that fails (counted). The
  // cache (by host, then a short list of its plugins) is bounded (cleared when full) and
  // forgotten with a rolled-back transaction.
  std::int64_t series_id(std::string_view host, std::string_view plugin) {
    auto h = series_.find(host);
    if (h != series_.end())
      for (const auto& [name, id] : h->second)
        if (name == plugin) return id;
    detail::store_statements& s = stmts_;
    std::int64_t id = -1;
    s.series_find.bind(1, host).bind(2, plugin);
    int rc = s.series_find.step();
    if (rc == SQLITE_ROW) id = s.series_find.integer(0);
    s.series_find.reset();
    if (rc == SQLITE_DONE) {
      rc = s.series_add.bind(1, host).bind(2, plugin).run();
      if (rc == SQLITE_DONE) id = sqlite3_last_insert_rowid(db_.get());
    }
    check(rc, "series write");
    if (id < 0) return id;
    if (++series_cached_ > series_cache_max) {
      series_.clear();
      series_cached_ = 1;
      h = series_.end();
    }
    if (h == series_.end()) h = series_.try_emplace(std::string(host)).first;
    h->second.emplace_back(std::string(plugin), id);
    return id;
  }

  void forget_series(std::string_view host) {
    if (auto h = series_.find(host); h != series_.end()) {
      series_cached_ -= h->second.size();
      series_.erase(h);
    }
  }

  // Points each series written in this transaction at its newest sample: one update per series
  // and commit rather than one per sample, in id order (neighbouring pages).
  void write_latest() {
    if (latest_.empty()) return;
    std::sort(latest_.begin(), latest_.end());
    for (std::size_t i = 0; i < latest_.size(); ++i) {
      if (i + 1 < latest_.size() && latest_[i + 1].first == latest_[i].first) continue;
      check(stmts_.latest.bind(1, latest_[i].first).bind(2, latest_[i].second).run(), "latest write");
    }
    latest_.clear();
  }

  // The first sample rowid whose sample is not older than `cutoff`, by a binary search over
  // rowids: samples are appended as they arrive, so their timestamps grow with the rowid
  // (clocks out of step only delay a sample's removal to a later pass).
  std::int64_t first_kept_sample(double cutoff) {
    detail::store_statements& s = stmts_;
    std::int64_t lo = 0, hi = 0;
    if (s.sample_bounds.step() == SQLITE_ROW &&
        sqlite3_column_type(s.sample_bounds.get(), 0) != SQLITE_NULL) {
      lo = s.sample_bounds.integer(0);
      hi = s.sample_bounds.integer(1) + 1;
    }
    s.sample_bounds.reset();
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo) / 2;
      bool old = false;
      if (s.sample_at.bind(1, mid).step() == SQLITE_ROW) old = s.sample_at.real(0) < cutoff;
      s.sample_at.reset();
      if (old)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }

  void run_writer() {
    using clock = std::chrono::steady_clock;
    bool in_txn = false;
    std::uint64_t rows = 0;
    clock::time_point txn_start{};
    auto next_prune = clock::now();  // once at start, then every prune_interval
    auto commit = [&] {
      if (!in_txn) return;
      write_latest();
      if (auto r = db_.exec("COMMIT"); !r) {
        note_error("commit");
        (void)db_.exec("ROLLBACK");
        series_.clear();  // ids added in the lost transaction
        series_cached_ = 0;
      } else {
        rows_written_.fetch_add(rows, std::memory_order_relaxed);
        transactions_.fetch_add(1, std::memory_order_relaxed);
      }
      committed_.fetch_add(rows, std::memory_order_release);
      in_txn = false;
      rows = 0;
      std::lock_guard lk(flush_m_);
      flush_cv_.notify_all();
    };
    for (;;) {
      bool stopping = stop_.load();
      bool got = false;
      while (auto o = q_.pop()) {
        got = true;
        if (!in_txn) {
          if (auto r = db_.exec("BEGIN"); !r) note_error("begin");
          in_txn = true;
          txn_start = clock::now();
        }
        apply(*o);
        ++rows;
        if (rows >= opt_.batch_rows || ((rows & 63) == 0 && clock::now() - txn_start >= opt_.commit_interval))
          commit();
      }
      auto now = clock::now();
      if (in_txn && (stopping || flush_req_.exchange(false) || now - txn_start >= opt_.commit_interval))
        commit();
      if (!in_txn && now >= next_prune) {
        prune();
        next_prune = now + opt_.prune_interval;
      }
      if (!in_txn) {
        std::lock_guard lk(flush_m_);
        flush_cv_.notify_all();
      }
      if (stopping) break;
      // Until the open batch's commit, else the next prune (flush() and stop wake us).
      const auto wait = std::max(std::chrono::milliseconds(1),
                                 std::chrono::duration_cast<std::chrono::milliseconds>(
                                     in_txn ? txn_start + opt_.commit_interval - now : next_prune - now));
      // While writes keep coming, nap between batches (the queue wakes us when a
      // quarter full): a sleeping consumer would cost the io thread a futex call
      // per write, and polling would wake this thread hundreds of times a second.
      if (got)
        q_.nap(std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(opt_.commit_interval)));
      else
        q_.wait(wait);
    }
    commit();
  }

  // The reader thread: answers history queries on its own read-only connection.

  void run_reader() {
    auto st = reader_db_.prepare(
        "SELECT ts, data FROM samples WHERE series = (SELECT id FROM series WHERE host = ?1 AND plugin = ?2)"
        " AND ts >= ?3 AND ts <= ?4 ORDER BY ts DESC, id DESC LIMIT ?5");
    for (;;) {
      bool stopping = stop_.load();
      while (auto q = qq_.pop()) {
        if (q->run) {
          q->run(reader_db_);
          queries_.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        result<std::vector<history_sample>> res = make_error("store_sql", "history query not prepared");
        if (st) {
          std::vector<history_sample> rows;
          st->bind(1, q->host).bind(2, q->plugin).bind(3, q->since).bind(4, q->until);
          st->bind(5, q->limit ? static_cast<std::int64_t>(q->limit) : std::int64_t{-1});
          int rc;
          while ((rc = st->step()) == SQLITE_ROW)
            rows.push_back(history_sample{st->real(0), std::string(st->text(1))});
          st->reset();
          if (rc == SQLITE_DONE)
            res = std::move(rows);
          else
            res = make_error("store_sql", "history query failed: " + reader_db_.errmsg());
        }
        queries_.fetch_add(1, std::memory_order_relaxed);
        auto deliver = [cb = std::move(q->cb), r = std::move(res)]() mutable { cb(std::move(r)); };
        run_posted(post_, std::move(deliver));
      }
      if (stopping) break;
      qq_.wait(std::chrono::milliseconds(3600 * 1000));  // a query or stop wakes it
    }
  }

  store_options opt_;
  detail::sqlite_db db_;         // writer connection (starting thread, then the writer thread)
  detail::sqlite_db reader_db_;  // reader thread
  detail::store_statements stmts_;
  // Writer thread: series ids by host and plugin, and (series, sample rowid) written in the
  // open transaction for write_latest().
  static constexpr std::size_t series_cache_max = std::size_t{1} << 18;
  string_map<std::vector<std::pair<std::string, std::int64_t>>> series_;
  std::size_t series_cached_ = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> latest_;
  spsc_queue<op> q_;
  spsc_queue<query> qq_;
  post_function post_;
  std::function<double()> prune_clock_;
};

}  // namespace heartbeat::server
