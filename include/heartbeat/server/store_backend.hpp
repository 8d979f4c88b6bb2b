// What hbd's parts use of a durable store, as one interface with two backends:
// the embedded SQLite store (store.hpp, the default) and the PostgreSQL store
// (store_pg.hpp, for several nodes). load() runs once on the starting thread;
// afterwards the io thread enqueues writes (never blocking: a full queue is a
// counted drop) and asks history queries whose callbacks come back through `post`.
// Under overload the least important writes go first: past three quarters of the
// queue, plugin samples (history) are shed, keeping the rest for host, alert,
// command and account writes; both counted and logged at most once a minute.
#pragma once

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

#include "heartbeat/bus/events.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/server/event_log.hpp"
#include "heartbeat/server/store_snapshot.hpp"

namespace heartbeat::server {

struct store_stats {
  std::uint64_t queued = 0;        // writes accepted into the queue
  std::uint64_t dropped = 0;       // writes refused: the queue was full, or shed
  std::uint64_t shed = 0;          // of those, plugin samples refused to keep room for the other writes
  std::uint64_t rows_written = 0;  // writes committed
  std::uint64_t transactions = 0;
  std::uint64_t errors = 0;   // failed statements or commits
  std::uint64_t pruned = 0;   // history/messages/commands rows removed by retention
  std::uint64_t queries = 0;  // history queries answered
  std::uint64_t queries_dropped = 0;
  std::size_t queue_depth = 0;
  std::size_t queue_capacity = 0;
};

using history_callback = std::function<void(result<std::vector<history_sample>>)>;
// Runs a function on the io thread (e.g. [&io](auto f) { asio::post(io, std::move(f)); }).
using post_function = std::function<void(std::function<void()>)>;

class store_backend {
 public:
  virtual ~store_backend() = default;

  // Reads everything the registry restores from (synchronous; before start()).
  virtual result<store_snapshot> load() = 0;
  // Starts the backend's threads; `post` delivers query callbacks to the io thread.
  virtual result<void> start(post_function post = {}) = 0;
  // Commits everything queued, then stops (io thread, at shutdown).
  virtual void stop() = 0;

  // Writes: io thread only; they never block (false: dropped, and counted).
  virtual bool put_host(std::string_view name, std::string host_json, double ts) = 0;
  // A host as the io thread saves it after a change, in parts (host_json.hpp, write_host_row):
  // `row` is its entry without "connections", `conns` "family\0{...}\0" per connection, which is
  // how both stores keep them (no parse on the writer). False means "not now": the queue has no
  // room to spare (threaded_store::room_for_host_row), nothing is counted, and the caller keeps
  // the host for its next save.
  virtual bool put_host_row(std::string_view name, std::string row, std::string_view conns, double ts) = 0;
  virtual bool put_plugin(std::string_view host, std::string_view plugin, double ts,
                          std::string data_json) = 0;
  virtual bool put_message(std::string_view host, double ts, std::string message_json) = 0;
  virtual bool put_alert(std::string_view host, std::string_view metric_path, double ts,
                         std::string alert_json) = 0;
  virtual bool put_command(std::string_view host, std::string_view id, double ts,
                           std::string command_json) = 0;
  virtual bool drop_host(std::string_view host, double ts) = 0;
  virtual bool put_state(std::string_view key, std::string value, double ts) = 0;
  virtual bool put_user(std::string_view name, std::string user_json, double ts) = 0;
  virtual bool forget_user(std::string_view name, double ts) = 0;
  // One row of the event log (event_log.hpp; pruned with the history by history_retention).
  virtual bool put_event(event_row e) = 0;

  // The event-bus sink: persists what each event carries. With `plugins` false the caller
  // writes PLG data itself through put_plugin().
  virtual bus::event_sink sink(bool plugins = true) {
    return [this, plugins](const bus::event& e) { on_event(e, plugins); };
  }
  virtual void on_event(const bus::event& e, bool plugins = true) {
    switch (e.kind) {
      case bus::event_kind::host: put_host(e.host, e.data.dump(), e.ts); return;
      case bus::event_kind::plugin: {
        if (!plugins) return;
        const json::value* d = e.data.find("data");
        std::string plugin = e.data.string_or("plugin", "");
        if (plugin.empty()) return;
        put_plugin(e.host, plugin, e.data.number_or("timestamp", e.ts), d ? d->dump() : std::string("{}"));
        return;
      }
      case bus::event_kind::message: put_message(e.host, e.ts, e.data.dump()); return;
      case bus::event_kind::alert: {
        std::string path = e.data.string_or("metric_path", "");
        if (path.empty()) return;
        put_alert(e.host, path, e.ts, e.data.dump());
        return;
      }
      case bus::event_kind::command: {
        std::string id = e.data.string_or("id", e.data.string_or("cmd_id", ""));
        if (id.empty()) return;
        put_command(e.host, id, e.ts, e.data.dump());
        return;
      }
      case bus::event_kind::reboot: return;
      case bus::event_kind::dropped: drop_host(e.host, e.ts); return;
    }
  }

  // Samples of `plugin` on `host` with since <= ts <= until, newest first, at most `limit`
  // (0: no limit). io thread; the callback runs via `post`.
  virtual void query_history(std::string_view host, std::string_view plugin, double since, double until,
                             std::size_t limit, history_callback cb) = 0;

  // Waits (any thread but the writer) until every write queued so far is committed, or
  // `timeout` passes. Returns whether it got there.
  // The event log's rows matching `q`, newest first: {"events": [...], "count"}. io thread; the
  // callback runs via `post`. Writes still in the open batch are not seen yet.
  virtual void query_events(event_query q, std::function<void(result<json::value>)> cb) = 0;

  virtual bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) = 0;

  virtual store_stats stats() const = 0;

 protected:
  // Runs `f` through `post` (to the io thread) when there is one, else here: how the reader
  // threads hand query answers and refusals back.
  static void run_posted(const post_function& post, std::function<void()> f) {
    if (post)
      post(std::move(f));
    else
      f();
  }
};

// What the SQLite and the PostgreSQL store share: a writer and a reader thread, the counters
// /metrics shows, and flush() waiting for the writer's commits. The writer adds to committed_ and
// notifies flush_cv_ (under flush_m_) after each transaction.
class threaded_store : public store_backend {
 public:
  // Waits (any thread but the writer) until every write queued so far is committed, or
  // `timeout` passes. Returns whether it got there.
  bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) override {
    std::uint64_t target = queued_.load();
    flush_req_.store(true);
    wake_writer();
    std::unique_lock lk(flush_m_);
    return flush_cv_.wait_for(lk, timeout,
                              [&] { return committed_.load() >= target || !writer_.joinable(); });
  }

  store_stats stats() const override {
    store_stats s;
    s.queued = queued_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.shed = shed_.load(std::memory_order_relaxed);
    s.rows_written = rows_written_.load(std::memory_order_relaxed);
    s.transactions = transactions_.load(std::memory_order_relaxed);
    s.errors = errors_.load(std::memory_order_relaxed);
    s.pruned = pruned_.load(std::memory_order_relaxed);
    s.queries = queries_.load(std::memory_order_relaxed);
    s.queries_dropped = queries_dropped_.load(std::memory_order_relaxed);
    s.queue_depth = queue_depth();
    s.queue_capacity = queue_capacity();
    return s;
  }

 protected:
  virtual void wake_writer() = 0;
  virtual std::size_t queue_depth() const = 0;
  virtual std::size_t queue_capacity() const = 0;

  // io thread, before queueing a plugin sample: false (shed, counted) once the queue is three
  // quarters full, so that history never crowds out state.
  bool admit_history() {
    if (queue_depth() < queue_capacity() - queue_capacity() / 4) return true;
    shed_.fetch_add(1, std::memory_order_relaxed);
    dropped_.fetch_add(1, std::memory_order_relaxed);
    shed_log_.warn(clock::mono_now(), "store: falling behind, plugin samples shed (history first; ",
                   "heartbeat_queue_shed_total{queue=\"store\"})");
    return false;
  }
  // io thread, before queueing a host row: false (deferred, not counted) once the queue is half
  // full; the caller saves the host again a second later. A million hosts' once-a-second saves
  // come as one burst larger than the queue: deferring them at half keeps the room that plugin
  // samples (shed at three quarters) and alerts, commands and events need.
  bool room_for_host_row() const { return queue_depth() < queue_capacity() / 2; }
  // io thread: a write refused by a full queue.
  void note_dropped() {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    drop_log_.warn(clock::mono_now(),
                   "store: queue full, writes dropped (heartbeat_queue_dropped_total{queue=\"store\"})");
  }

  std::thread writer_, reader_;
  std::atomic<bool> stop_{false}, flush_req_{false};
  std::mutex flush_m_;
  std::condition_variable flush_cv_;
  std::atomic<std::uint64_t> queued_{0}, committed_{0}, dropped_{0}, rows_written_{0}, transactions_{0},
      errors_{0}, pruned_{0}, queries_{0}, queries_dropped_{0}, shed_{0};
  log::limited shed_log_, drop_log_;  // io thread
};

}  // namespace heartbeat::server
