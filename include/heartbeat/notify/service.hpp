// notify::service, what hbd constructs: submit() and on_event() are called on
// the io thread and never block (a bounded spsc queue; a full queue is a
// counted, journaled drop); one worker thread runs the pipeline and the
// channels (libcurl). Journal records reach the server's callback through the
// `post` function it passes (e.g. asio::post to the io thread). The partition
// detector (partition.hpp) runs on the io thread beside the event translator:
// host events feed it, tick() announces, and the DOWN/UP it holds back are
// journaled here without entering the queue.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/spsc_queue.hpp"
#include "heartbeat/notify/channels.hpp"
#include "heartbeat/notify/gate.hpp"
#include "heartbeat/notify/partition.hpp"
#include "heartbeat/notify/pipeline.hpp"
#include "heartbeat/notify/translate.hpp"

namespace heartbeat::notify {

class service {
 public:
  using post_fn = std::function<void(std::function<void()>)>;

  // `journal` receives every record; with `post` set it is called through it
  // (on the io thread), else directly on the worker thread (or, for drops, on
  // the caller of submit()). `chans` replaces the configured channels (tests),
  // reloads included.
  explicit service(const settings& s, journal_fn journal = {}, post_fn post = {},
                   std::vector<channel> chans = {})
      : journal_(std::move(journal)),
        post_(std::move(post)),
        queue_(s.policy.queue_size),
        pipeline_(std::make_unique<pipeline>(
            s, chans.empty() ? build_channels(s) : chans, [this](const journal_record& r) { emit(r); },
            &counters_)),
        partition_(s.partition),
        injected_(std::move(chans)) {
    for (const auto& n : s.notifiers) channel_names_.push_back(n.name);
    seed_access(s);
  }

  ~service() { stop(); }
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  // Before start() only (afterwards pass it to reload()): an extra maintenance
  // test, called on the worker thread.
  void set_maintenance_check(stages::maintenance::check_fn f) {
    maintenance_check_ = f;
    pipeline_->maintenance().set_check(std::move(f));
  }

  // io thread: new settings (SIGHUP). The worker rebuilds its pipeline from
  // them; pending retries, held digests and dedup memory start afresh, and
  // counters of notifiers added now appear in /metrics after a restart.
  void reload(const settings& s, stages::maintenance::check_fn check = {}) {
    partition_.configure(s.partition);
    if (queue_.push(item{reload_item{std::make_shared<settings>(s), std::move(check)}}))
      submitted_.fetch_add(1);
    else
      log::warn("notify: queue full, reload lost");
    // The new directory starts from the config: hand it again what the registry said.
    for (const auto& [host, a] : access_) waiting_access_.insert_or_assign(host, a);
    seed_access(s);
    hand_over_waiting_access();
  }

  // io thread: with several nodes, who may send (the notifications submitted after this call
  // go through it; docs/CLUSTER.md).
  void set_gate(std::shared_ptr<delivery_gate> g) {
    if (queue_.push(item{gate_item{std::move(g)}}))
      submitted_.fetch_add(1);
    else
      log::warn("notify: queue full, gate lost");
  }
  // io thread: this node just became the leader; the worker sends what the outbox and the
  // notifications it held ask for.
  void take_over() {
    if (queue_.push(item{takeover_item{}}))
      submitted_.fetch_add(1);
    else
      log::warn("notify: queue full, takeover lost");
  }

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
    drain_until_ = clock::mono_now() + drain;
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
    drop_log_.warn(clock::mono_now(), "notify: queue full, dropped: ", text);
    if (journal_) {
      journal_record r;
      r.ts = clock::wall_now();
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
  // Host events also carry the host's effective watch flag and roles (the
  // registry's host_json); a change is forwarded to the pipeline's directory.
  void on_event(const bus::event& e) {
    if (e.kind == bus::event_kind::host) {
      if (e.data.contains("watch")) sync_access(e);
      observe_host(e);
    } else if (e.kind == bus::event_kind::dropped) {
      partition_.forget(e.host);
    } else if (e.kind == bus::event_kind::alert && e.data.string_or("kind", "") == "acknowledged") {
      // The ladder of an acknowledged alert climbs no further.
      if (queue_.push(item{ack_item{e.host, e.data.string_or("metric_path", "")}}))
        submitted_.fetch_add(1);
      else
        log::warn("notify: queue full, acknowledgement of ", e.host, " lost for its escalation");
    }
    auto n = translator_.translate(e);
    if (!n) return;
    if (partition_.hold(*n)) return held(*n);
    submit(std::move(*n));
  }

  // io thread, about once a second: partition announcements (PARTITION, PARTITION OVER, and the
  // hosts still DOWN one window later, one by one). Windows on `t`'s monotonic face, the
  // notifications dated with its wall face.
  void tick(clock::instant t) {
    hand_over_waiting_access();
    const double now = t.wall;
    for (auto& a : partition_.tick(t)) {
      using type = partition_detector::announcement::type;
      if (a.what == type::release) {
        for (const auto& [host, last_seen] : a.down) {
          notification n;
          n.host = host;
          n.kind = kind::host_down;
          n.level = n.severity = level::critical;
          n.from = "UP";
          n.to = "DOWN";
          n.duration = std::max(0.0, now - last_seen);
          n.text = down_text(host, n.duration);
          n.ts = now;
          submit(std::move(n));
        }
        continue;
      }
      const bool over = a.what == type::over;
      journal_record r;
      r.ts = now;
      r.outcome = over ? outcome::partition_over : outcome::partition;
      r.reason = std::to_string(a.count) + " of " + std::to_string(a.of) + (over ? " back" : " silent");
      r.kind = kind::partition;
      r.level = over ? level::ok : level::critical;
      r.text = a.text;
      log::warn("notify: ", a.text);
      if (journal_) journal_(r);
      notification n;
      n.kind = kind::partition;
      n.level = over ? level::ok : level::critical;
      n.severity = level::critical;
      n.text = a.text;
      n.ts = now;
      submit(std::move(n));
    }
  }

  // io thread: an active check named in partition.canaries reports whether it passes.
  void report_canary(std::string_view check, bool ok, clock::instant now) {
    partition_.canary(check, ok, now);
  }
  // io thread: a host's state known before any event (e.g. restored at start-up).
  void seed_host(const std::string& host, std::string_view state, clock::instant now) {
    partition_.observe(host, state, now);
  }
  const partition_detector& partition() const noexcept { return partition_; }
  bus::event_sink sink() {
    return [this](const bus::event& e) { on_event(e); };
  }

  // io thread: roles or the watch flag of a host changed (API, HTB owner). When the queue is full
  // (a storm of notifications, a million hosts registering) the update waits here, the newest per
  // host, and goes in as the queue drains (tick): a lost one would route that host's alerts by
  // stale roles for as long as hbd runs.
  void set_host_access(std::string host, host_access a) {
    waiting_access_.insert_or_assign(std::move(host), std::move(a));
    hand_over_waiting_access();
  }

  // Every series /metrics shows, as {name with labels, help, reader}, for
  // server::stats::add_gauge; the readers are thread-safe.
  struct series {
    std::string name;
    std::string help;
    std::function<double()> read;
  };
  std::vector<series> metric_series() const {
    std::vector<series> out;
    const char* help = "Notifications by channel and result (suppressed and dropped with their reason).";
    auto add = [&](const std::string& ch, outcome o, std::string_view why) {
      std::string name = "heartbeat_notifications_total{channel=\"" +
                         (ch.empty() ? std::string("none") : ch) + "\",result=\"" + to_string(o) + "\"";
      if (!why.empty()) name += ",reason=\"" + metric_label(why) + "\"";
      name += "}";
      out.push_back({name, help, [this, ch, o, w = std::string(why)] {
                       return static_cast<double>(counters_.get(ch, o, w));
                     }});
    };
    for (const auto& ch : channel_names_) {
      for (auto o : {outcome::sent, outcome::retried, outcome::failed, outcome::fell_back}) add(ch, o, {});
      for (auto w : {reason::severity, reason::quiet_hours, reason::rate_limited})
        add(ch, outcome::suppressed, w);
    }
    for (auto w : {reason::watch, reason::maintenance, reason::dedup, reason::no_recipient, reason::partition,
                   follower_reason})
      add("", outcome::suppressed, w);
    add("", outcome::dropped, reason::queue_full);
    out.push_back({"heartbeat_queue_depth{queue=\"notify\"}",
                   "Notifications waiting for the notifier thread.",
                   [this] { return static_cast<double>(queue_.size()); }});
    out.push_back({"heartbeat_queue_dropped_total{queue=\"notify\"}", "Notifications dropped (queue full).",
                   [this] { return static_cast<double>(dropped_.load()); }});
    return out;
  }

  // io thread: a user was created or changed (admin flag, notification_channels,
  // ...) or deleted through the API; routing follows without a restart.
  void set_user(user_settings u) {
    if (queue_.push(item{user_update{std::move(u), false}}))
      submitted_.fetch_add(1);
    else
      log::warn("notify: queue full, user update lost");
  }
  void remove_user(std::string name) {
    user_settings u;
    u.name = std::move(name);
    if (queue_.push(item{user_update{std::move(u), true}}))
      submitted_.fetch_add(1);
    else
      log::warn("notify: queue full, user update lost");
  }

  // Any thread.
  std::string metrics_text() const {
    return counters_.prometheus() +
           "# TYPE heartbeat_queue_depth gauge\nheartbeat_queue_depth{queue=\"notify\"} " +
           std::to_string(queue_.size()) +
           "\n# TYPE heartbeat_queue_dropped_total "
           "counter\nheartbeat_queue_dropped_total{queue=\"notify\"} " +
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
  void hand_over_waiting_access() {
    for (auto it = waiting_access_.begin(); it != waiting_access_.end();) {
      item i{host_update{it->first, it->second}};
      if (!queue_.push(std::move(i))) return;
      submitted_.fetch_add(1);
      it = waiting_access_.erase(it);
    }
  }

  struct host_update {
    std::string host;
    host_access access;
  };
  struct user_update {
    user_settings user;
    bool remove = false;
  };
  struct reload_item {
    std::shared_ptr<settings> s;
    stages::maintenance::check_fn check;
  };
  struct ack_item {
    std::string host, metric_path;
  };
  struct gate_item {
    std::shared_ptr<delivery_gate> gate;
  };
  struct takeover_item {};
  struct item {
    std::variant<notification, host_update, user_update, reload_item, ack_item, gate_item, takeover_item> v;
  };

  void observe_host(const bus::event& e) {
    const json::value* st = e.data.find("state");
    if (!st || !st->is_string()) return;
    std::string host = e.host.empty() ? e.data.string_or("name", "") : e.host;
    std::string from;
    if (const json::value* tr = e.data.find("transition"); tr && tr->is_object())
      from = tr->string_or("from", "");
    double last_seen = 0;
    if (const json::value* ls = e.data.find("last_seen")) detail::parse_time_point(*ls, last_seen);
    // The registry stamps host events with both clock faces; an event without the monotonic
    // one (built by hand) has one time for both.
    partition_.observe(host, st->as_string(), clock::instant(e.ts, e.mono > 0 ? e.mono : e.ts), from,
                       last_seen);
  }

  // A host's DOWN/UP inside a partition: counted and journaled here, never queued.
  void held(const notification& n) {
    counters_.add("", outcome::suppressed, reason::partition);
    if (!journal_) return;
    journal_record r;
    r.ts = n.ts;
    r.outcome = outcome::suppressed;
    r.reason = std::string(reason::partition);
    r.host = n.host;
    r.kind = n.kind;
    r.level = n.level;
    r.text = n.text;
    journal_(r);
  }

  // Forwards a host's access when it differs from what the directory holds. access_ has an entry
  // for every host the directory may hold one for (configured hosts, hosts with other than plain
  // access); any other host the directory holds nothing for, which routes as plain access does.
  void sync_access(const bus::event& e) {
    host_access a;
    a.watch = e.data.bool_or("watch", true);
    a.owner = e.data.string_or("owner", "");
    a.managers = detail::string_list(e.data.find("managers"));
    a.monitors = detail::string_list(e.data.find("monitors"));
    auto it = access_.find(e.host);
    if (it == access_.end()) {
      if (plain_access(a, default_owner_)) return;
      access_.emplace(e.host, a);
    } else {
      const host_access& known = it->second;
      if (known.watch == a.watch && known.owner == a.owner && known.managers == a.managers &&
          known.monitors == a.monitors)
        return;
      if (plain_access(a, default_owner_) && !configured_.contains(e.host))
        access_.erase(it);
      else
        it->second = a;
    }
    set_host_access(e.host, std::move(a));
  }

  // What a directory built from `s` holds before any update: the configured hosts.
  void seed_access(const settings& s) {
    default_owner_ = effective_default_owner(s);
    configured_.clear();
    for (const auto& [host, a] : s.hosts) {
      configured_.insert(host);
      access_.try_emplace(host, a);
    }
  }

  void emit(const journal_record& r) {
    if (r.outcome == outcome::failed)
      log::warn("notify: ", r.channel, " failed for ", r.user.empty() ? "everyone" : r.user, ": ", r.error);
    if (!journal_) return;
    if (post_)
      post_([j = journal_, r] { j(r); });
    else
      journal_(r);
  }

  // A new notification: with a gate, only the leader records it in the outbox and sends it.
  void deliver(notification& n, clock::instant now) {
    if (n.id.empty()) n.id = new_notification_id();
    if (gate_ && (!gate_->may_send() || !gate_->record(n))) {
      gate_->hold(n);
      counters_.add("", outcome::suppressed, follower_reason);
      journal_record r;
      r.ts = now.wall;
      r.outcome = outcome::suppressed;
      r.reason = std::string(follower_reason);
      r.host = n.host;
      r.kind = n.kind;
      r.level = n.level;
      r.text = n.text;
      r.metric_path = n.metric_path;
      r.id = n.id;
      emit(r);
      return;
    }
    pipeline_->process(n, now);
  }

  void install_gate() {
    if (!gate_) return;
    pipeline_->set_gate([g = gate_] { return g->may_send(); },
                        [g = gate_](const std::string& id) { g->settled(id); });
  }

  void take_over_now(clock::instant now) {
    if (!gate_ || !gate_->may_send()) return;
    std::size_t n = 0;
    for (auto& x : gate_->takeover()) {
      if (x.id.empty() || pipeline_->in_flight(x.id)) continue;  // still being sent from here
      pipeline_->process(x, now);
      ++n;
    }
    if (n) log::info("notify: leader now: sending ", n, " notifications no node sent");
  }

  void handle(item& it, clock::instant now) {
    if (auto* n = std::get_if<notification>(&it.v))
      deliver(*n, now);
    else if (auto* g = std::get_if<gate_item>(&it.v)) {
      gate_ = std::move(g->gate);
      install_gate();
    } else if (std::get_if<takeover_item>(&it.v))
      take_over_now(now);
    else if (auto* h = std::get_if<host_update>(&it.v))
      pipeline_->dir().set_host(h->host, std::move(h->access));
    else if (auto* u = std::get_if<user_update>(&it.v)) {
      if (u->remove)
        pipeline_->dir().remove_user(u->user.name);
      else
        pipeline_->dir().set_user(std::move(u->user));
    } else if (auto* a = std::get_if<ack_item>(&it.v)) {
      pipeline_->acknowledge(a->host, a->metric_path);
    } else if (auto* r = std::get_if<reload_item>(&it.v)) {
      auto next = std::make_unique<pipeline>(
          *r->s, injected_.empty() ? build_channels(*r->s) : injected_,
          [this](const journal_record& rec) { emit(rec); }, &counters_);
      next->escalation().adopt(std::move(pipeline_->escalation()));  // ladders keep climbing
      pipeline_ = std::move(next);
      if (r->check) maintenance_check_ = std::move(r->check);
      if (maintenance_check_) pipeline_->maintenance().set_check(maintenance_check_);
      install_gate();
      log::info("notify: settings reloaded (", r->s->notifiers.size(), " notifiers)");
    }
  }

  void run() {
    for (;;) {
      bool stopping = stop_.load();
      double now = clock::mono_now();
      if (stopping && now >= drain_until_) break;
      double wait = std::clamp(pipeline_->next_due() - now, 0.0, 0.25);
      if (!stopping) queue_.wait(std::chrono::milliseconds(static_cast<long>(wait * 1000)));
      std::uint64_t handled = 0;
      while (auto it = queue_.pop()) {
        handle(*it, clock::now());
        ++handled;
      }
      pipeline_->tick(clock::now());
      bool idle = pipeline_->idle();
      // Published in this order so that idle() never sees a handled item
      // before the tick that sent it.
      pipeline_idle_.store(idle);
      processed_.fetch_add(handled);
      idle = idle && queue_.size() == 0;
      if (stopping && (idle || pipeline_->next_due() > drain_until_)) break;
      if (stopping) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  journal_fn journal_;
  post_fn post_;
  spsc_queue<item> queue_;
  counters counters_;
  std::unique_ptr<pipeline> pipeline_;   // worker thread (built before start)
  std::shared_ptr<delivery_gate> gate_;  // worker thread
  stages::maintenance::check_fn maintenance_check_;
  event_translator translator_;
  partition_detector partition_;                                 // io thread
  std::vector<channel> injected_;                                // the constructor's `chans`
  std::unordered_map<std::string, host_access> access_;          // io thread: last forwarded (sync_access)
  std::unordered_set<std::string> configured_;                   // io thread: hosts.<h> of the settings
  std::string default_owner_;                                    // io thread: effective_default_owner
  std::unordered_map<std::string, host_access> waiting_access_;  // io thread: for room in queue_
  log::limited drop_log_;  // io thread: a storm of drops is one line a minute
  std::vector<std::string> channel_names_;
  std::thread worker_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> pipeline_idle_{true};
  std::atomic<std::uint64_t> submitted_{0};
  std::atomic<std::uint64_t> processed_{0};
  std::atomic<std::uint64_t> dropped_{0};
  double drain_until_ = 0;  // monotonic
};

}  // namespace heartbeat::notify
