// notify::service, what hbd constructs: submit() and on_event() are called on
// the io thread and never block (a bounded spsc queue; a full queue is a
// counted, journaled drop); one worker thread runs the pipeline and the
// channels (libcurl). Journal records reach the server's callback through the
// `post` function it passes (e.g. asio::post to the io thread).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "heartbeat/core/log.hpp"
#include "heartbeat/core/spsc_queue.hpp"
#include "heartbeat/notify/channels.hpp"
#include "heartbeat/notify/pipeline.hpp"
#include "heartbeat/notify/translate.hpp"

namespace heartbeat::notify {

inline double wall_clock() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class service {
 public:
  using post_fn = std::function<void(std::function<void()>)>;

  // `journal` receives every record; with `post` set it is called through it
  // (on the io thread), else directly on the worker thread (or, for drops, on
  // the caller of submit()). `chans` replaces the configured channels (tests).
  explicit service(const settings& s, journal_fn journal = {}, post_fn post = {},
                   std::vector<channel> chans = {})
      : journal_(std::move(journal)),
        post_(std::move(post)),
        queue_(s.policy.queue_size),
        pipeline_(s, chans.empty() ? build_channels(s) : std::move(chans),
                  [this](const journal_record& r) { emit(r); }, &counters_) {}

  ~service() { stop(); }
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  // Before start(): an extra maintenance test, called on the worker thread.
  void set_maintenance_check(stages::maintenance::check_fn f) { pipeline_.maintenance().set_check(std::move(f)); }

  void start() {
    if (worker_.joinable()) return;
    detail::curl_init_once();
    stop_ = false;
    worker_ = std::thread([this] { run(); });
  }

  // Stops the worker after handing it up to `drain` seconds to finish what is
  // queued and due now (pending retries later than that are abandoned).
  void stop(double drain = 2) {
    if (!worker_.joinable()) return;
    drain_until_ = wall_clock() + drain;
    stop_ = true;
    queue_.wake();
    worker_.join();
  }

  // io thread. False (and a "dropped" record) when the queue is full.
  bool submit(notification n) {
    std::string host = n.host, text = n.text;
    kind k = n.kind;
    level l = n.level;
    if (queue_.push(item{std::move(n)})) {
      submitted_.fetch_add(1);
      return true;
    }
    dropped_.fetch_add(1, std::memory_order_relaxed);
    counters_.add("", outcome::dropped, reason::queue_full);
    log::warn("notify: queue full, dropped: ", text);
    if (journal_) {
      journal_record r;
      r.ts = wall_clock();
      r.outcome = outcome::dropped;
      r.reason = std::string(reason::queue_full);
      r.host = host;
      r.kind = k;
      r.level = l;
      r.text = text;
      journal_(r);
    }
    return false;
  }

  // io thread: an event-bus sink (subscribe with `bus.subscribe(svc.sink())`).
  void on_event(const server::event& e) {
    if (auto n = translator_.translate(e)) submit(std::move(*n));
  }
  server::event_sink sink() {
    return [this](const server::event& e) { on_event(e); };
  }

  // io thread: roles or the watch flag of a host changed (API, HTB owner).
  void set_host_access(std::string host, host_access a) {
    if (queue_.push(item{host_update{std::move(host), std::move(a)}})) submitted_.fetch_add(1);
    else log::warn("notify: queue full, host access update lost");
  }

  // Any thread.
  std::string metrics_text() const {
    return counters_.prometheus() +
           "# HELP hb_notify_queue_depth Notifications waiting for the notifier thread.\n"
           "# TYPE hb_notify_queue_depth gauge\nhb_notify_queue_depth " +
           std::to_string(queue_.size()) +
           "\n# HELP hb_notify_dropped_total Notifications dropped because the queue was full.\n"
           "# TYPE hb_notify_dropped_total counter\nhb_notify_dropped_total " +
           std::to_string(dropped_.load()) + "\n";
  }
  const counters& stats() const { return counters_; }
  std::size_t queue_depth() const { return queue_.size(); }
  std::uint64_t dropped() const { return dropped_.load(); }
  // Nothing queued, nothing pending (retries, held digests).
  bool idle() const { return processed_.load() == submitted_.load() && pipeline_idle_.load(); }

  static std::vector<channel> build_channels(const settings& s) {
    std::vector<channel> out;
    for (const auto& c : s.notifiers)
      if (auto ch = make_channel(c)) out.push_back(std::move(*ch));
    return out;
  }

 private:
  struct host_update {
    std::string host;
    host_access access;
  };
  struct item {
    std::variant<notification, host_update> v;
  };

  void emit(const journal_record& r) {
    if (r.outcome == outcome::failed)
      log::warn("notify: ", r.channel, " failed for ", r.user.empty() ? "everyone" : r.user, ": ", r.error);
    if (!journal_) return;
    if (post_) post_([j = journal_, r] { j(r); });
    else journal_(r);
  }

  void handle(item& it, double now) {
    if (auto* n = std::get_if<notification>(&it.v)) pipeline_.process(*n, now);
    else if (auto* h = std::get_if<host_update>(&it.v)) pipeline_.dir().set_host(h->host, std::move(h->access));
  }

  void run() {
    for (;;) {
      bool stopping = stop_.load();
      double now = wall_clock();
      if (stopping && now >= drain_until_) break;
      double wait = std::clamp(pipeline_.next_due() - now, 0.0, 0.25);
      if (!stopping) queue_.wait(std::chrono::milliseconds(static_cast<long>(wait * 1000)));
      std::uint64_t handled = 0;
      while (auto it = queue_.pop()) {
        handle(*it, wall_clock());
        ++handled;
      }
      pipeline_.tick(wall_clock());
      bool idle = pipeline_.idle();
      // Published in this order so that idle() never sees a handled item
      // before the tick that sent it.
      pipeline_idle_.store(idle);
      processed_.fetch_add(handled);
      idle = idle && queue_.size() == 0;
      if (stopping && (idle || pipeline_.next_due() > drain_until_)) break;
      if (stopping) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  journal_fn journal_;
  post_fn post_;
  spsc_queue<item> queue_;
  counters counters_;
  pipeline pipeline_;
  event_translator translator_;
  std::thread worker_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> pipeline_idle_{true};
  std::atomic<std::uint64_t> submitted_{0};
  std::atomic<std::uint64_t> processed_{0};
  std::atomic<std::uint64_t> dropped_{0};
  double drain_until_ = 0;
};

}  // namespace heartbeat::notify
