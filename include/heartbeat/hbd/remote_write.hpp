// hbd's remote write, wired (docs/REMOTE_WRITE.md): one remote_write::sender per configured target,
// fed on the io thread from the registry's hooks (every accepted HTB and PLG), host and alert
// events on the bus, and a slow sweep that repeats the state of hosts that are not UP; per-target
// counters in /metrics. Other parts add samples of their own series with add_sample(). Targets
// change on SIGHUP (the old senders spool what they hold, the new ones send it). With several
// nodes every node writes, each with its `replica` label. io thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/hbd/core.hpp"
#include "heartbeat/remote_write/config.hpp"
#include "heartbeat/remote_write/handover.hpp"
#include "heartbeat/remote_write/sender.hpp"
#include "heartbeat/server/cluster_config.hpp"
#include "heartbeat/server/detail/persist_util.hpp"
#include "heartbeat/server/series.hpp"

namespace heartbeat::hbd {

class remote_writing {
 public:
  static constexpr double sweep_period = 60;  // each host that is not UP is repeated about this often

  explicit remote_writing(core& c) : c_(c) {}

  result<void> start() {
    targets_ = load();
    return open_senders();
  }

  // SIGHUP: a changed `remote_write` section replaces the senders.
  void reload() {
    auto next = load();
    if (next == targets_) return;
    close_senders();
    targets_ = std::move(next);
    if (auto r = open_senders(); !r) log::error("remote_write: reload: ", r.err().message);
    log::info("remote_write: ", senders_.size(), " targets after reload");
  }

  void stop() { close_senders(); }

  // One sample of any series, for parts with series of their own (e.g. check results): `name`
  // and label names as in the Prometheus data model, `ts` in Unix seconds. Samples of one series
  // must come in timestamp order (older or equal ones are dropped and counted). io thread only.
  result<void> add_sample(std::string_view name, std::span<const remote_write::label> labels, double ts,
                          double value) {
    if (!valid_metric_name(name))
      return make_error("bad_series", "invalid metric name: " + std::string(name));
    if (labels.size() >= remote_write::batcher::max_labels)
      return make_error("bad_series", "too many labels");
    for (const auto& l : labels)
      if (!remote_write::detail::valid_label_name(l.name))
        return make_error("bad_series", "invalid label name: " + std::string(l.name));
    if (!std::isfinite(ts)) return make_error("bad_series", "invalid timestamp");
    feed_.sample(name, labels, ts, value);
    return {};
  }

  bool active() const noexcept { return feed_.active(); }

  // The targets of configuration `root`: with several nodes on PostgreSQL (docs/CLUSTER.md) each
  // carries this node's `replica` label.
  static std::vector<remote_write::target_config> targets_of(const json::value& root) {
    cfg::diagnostics quiet;  // load_config reported them
    auto targets = remote_write::load_config(root, quiet);
    if (auto cs = server::cluster_settings_of(root); cs.postgres() && !targets.empty())
      remote_write::add_replica_label(targets, cs.node);
    return targets;
  }
  const std::vector<std::unique_ptr<remote_write::sender>>& senders() const noexcept { return senders_; }

 private:
  core& c_;
  std::vector<remote_write::target_config> targets_;
  std::vector<std::unique_ptr<remote_write::sender>> senders_;
  remote_write::feed feed_;
  bool wired_ = false;
  std::set<std::string> gauged_;  // targets whose gauges are registered
  double last_sweep_ = 0;
  double pass_started_ = -sweep_period;
  std::size_t sweep_pos_ = SIZE_MAX;  // a pass starts at the first sweep
  std::size_t swept_size_ = 0;
  std::vector<remote_write::conn_status> conns_;

  std::vector<remote_write::target_config> load() const { return targets_of(c_.cfg.root); }

  // A relative spool_dir is below the state directory (the state_db's directory).
  std::string spool_path(const std::string& dir) const {
    if (dir.starts_with("/")) return dir;
    std::string base = server::detail::parent_dir(c_.cfg.state_db);
    return base.empty() ? dir : base + "/" + dir;
  }

  result<void> open_senders() {
    for (const auto& t : targets_) {
      auto s = std::make_unique<remote_write::sender>(t, spool_path(t.spool_dir));
      if (auto r = s->start(); !r) {
        close_senders();
        return make_error("remote_write", "remote_write " + t.name + ": " + r.err().message);
      }
      feed_.attach(&s->queue());
      add_gauges(t.name);
      log::info("remote_write ", t.name, ": sending to its target every ", t.flush_interval,
                " s at most (spool ", spool_path(t.spool_dir), ")");
      senders_.push_back(std::move(s));
    }
    if (!senders_.empty()) wire();
    return {};
  }

  void close_senders() {
    feed_.detach_all();
    for (auto& s : senders_) s->stop();
    senders_.clear();
  }

  const remote_write::sender* find(const std::string& name) const {
    for (const auto& s : senders_)
      if (s->name() == name) return s.get();
    return nullptr;
  }

  // Hooks and subscriptions, once (they do nothing while no target is configured).
  void wire() {
    if (wired_) return;
    wired_ = true;
    auto& hooks = c_.reg.hooks();
    hooks.journal_message = [this, prev = std::move(hooks.journal_message)](
                                const protocol::message& m, std::string_view text, const server::source& src,
                                std::string_view address, double now) {
      if (prev) prev(m, text, src, address, now);
      if (feed_.active()) on_message(m, src, now);
    };
    auto active = [this] { return feed_.active(); };
    c_.reg.events().subscribe([this](const bus::event& e) { on_host_event(e); },
                              bus::event_bit(bus::event_kind::host), active);
    c_.reg.events().subscribe([this](const bus::event& e) { on_alert_event(e); },
                              bus::event_bit(bus::event_kind::alert), active);
    c_.monitor.on_tick = [this, prev = std::move(c_.monitor.on_tick)](clock::instant t) {
      if (prev) prev(t);
      if (feed_.active()) sweep(t.wall);
    };
  }

  void on_message(const protocol::message& m, const server::source& src, double now) {
    if (m.type == protocol::msg_type::plg) {
      feed_.plugin(m.plg.name, m.plg.plugin, m.plg.ts ? *m.plg.ts : now, m.plg.data_json);
    } else if (m.type == protocol::msg_type::htb) {
      const server::host* h = c_.reg.find(m.htb.name);
      if (!h) return;
      const server::connection& c = h->conns[static_cast<std::size_t>(src.family)];
      remote_write::conn_status cs{static_cast<std::uint8_t>(c.family), static_cast<std::uint8_t>(c.state),
                                   c.rtt.has_value(), c.rtt.value_or(0)};
      feed_.host(*h, now, true, {&cs, 1});
    }
  }

  // The state of a host or connection that is not UP: UP only comes with an HTB (written then).
  void on_host_event(const bus::event& e) {
    if (const server::host* h = c_.reg.find(e.host)) write_not_up(*h, e.ts);
  }

  void write_not_up(const server::host& h, double ts) {
    conns_.clear();
    for (const auto& c : h.conns)
      if (c.present && c.state != server::host_state::up)
        conns_.push_back({static_cast<std::uint8_t>(c.family), static_cast<std::uint8_t>(c.state), false, 0});
    bool host_part = h.state != server::host_state::up;
    if (host_part || !conns_.empty()) feed_.host(h, ts, host_part, conns_);
  }

  void on_alert_event(const bus::event& e) {
    const json::value* host = e.data.find("hostname");
    const json::value* path = e.data.find("metric_path");
    const json::value* to = e.data.find("to");
    if (!host || !path || !to || !host->is_string() || !path->is_string() || !to->is_string()) return;
    const std::string& l = to->as_string();
    int level = l == "OK" ? 0 : l == "WARNING" ? 1 : l == "CRITICAL" ? 2 : 3;
    feed_.alert(host->as_string(), path->as_string(), level, e.ts);
  }

  // About once a second, the next slice of hosts, each host about once per sweep_period: those not
  // UP get their state written again, so a DOWN host stays visible in the target between changes.
  // The host list is sorted again only after hosts come or go, so the sweep waits while they do.
  void sweep(double now) {
    if (now - last_sweep_ < 1) return;
    last_sweep_ = now;
    const auto& reg = c_.reg;
    if (reg.size() != swept_size_) {  // hosts come or go: wait until the host list settles
      swept_size_ = reg.size();
      return;
    }
    const auto& all = reg.hosts();
    std::size_t n = all.size() / static_cast<std::size_t>(sweep_period) + 1;
    for (std::size_t i = 0; i < n; ++i) {
      if (sweep_pos_ >= all.size()) {
        if (now - pass_started_ < sweep_period) return;
        sweep_pos_ = 0;
        pass_started_ = now;
        if (all.empty()) return;
      }
      write_not_up(*all[sweep_pos_++], now);
    }
  }

  static bool valid_metric_name(std::string_view s) {
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
    for (char c : s)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
            c == ':'))
        return false;
    return true;
  }

  void add_gauges(const std::string& target) {
    if (!gauged_.insert(target).second) return;
    auto& st = c_.stats;
    const std::string t = "target=\"" + target + "\"";
    auto stat = [this, target](auto read) {
      return [this, target, read]() -> double {
        const remote_write::sender* s = find(target);
        return s ? read(*s) : 0.0;
      };
    };
    auto counter = [](const std::atomic<std::uint64_t>& a) { return static_cast<double>(a.load()); };
    st.add_gauge("heartbeat_remote_write_samples_sent_total{" + t + "}",
                 "Samples the remote write target accepted.",
                 stat([=](const remote_write::sender& s) { return counter(s.stats().sent); }));
    st.add_gauge("heartbeat_remote_write_samples_failed_total{" + t + "}",
                 "Samples in requests that failed and are retried (connection errors, 5xx, 429).",
                 stat([=](const remote_write::sender& s) { return counter(s.stats().failed); }));
    const char* dropped_help = "Samples given up, by reason.";
    st.add_gauge("heartbeat_remote_write_samples_dropped_total{" + t + ",reason=\"rejected\"}", dropped_help,
                 stat([=](const remote_write::sender& s) { return counter(s.stats().rejected); }));
    st.add_gauge("heartbeat_remote_write_samples_dropped_total{" + t + ",reason=\"out_of_order\"}",
                 dropped_help,
                 stat([=](const remote_write::sender& s) { return counter(s.stats().out_of_order); }));
    st.add_gauge("heartbeat_remote_write_samples_dropped_total{" + t + ",reason=\"spool_full\"}",
                 dropped_help,
                 stat([=](const remote_write::sender& s) { return counter(s.stats().spool_full); }));
    st.add_gauge("heartbeat_remote_write_samples_dropped_total{" + t + ",reason=\"spool_error\"}",
                 dropped_help,
                 stat([=](const remote_write::sender& s) { return counter(s.stats().spool_error); }));
    st.add_gauge("heartbeat_remote_write_queue_dropped_total{" + t + "}",
                 "Messages not handed to the sender because its queue was full (their samples are lost).",
                 stat([](const remote_write::sender& s) { return static_cast<double>(s.queue().dropped); }));
    st.add_gauge("heartbeat_remote_write_queue_depth{" + t + "}",
                 "Messages waiting in the hand-over queue to the sender.",
                 stat([](const remote_write::sender& s) { return static_cast<double>(s.queue().depth()); }));
    st.add_gauge("heartbeat_remote_write_pending_samples{" + t + "}",
                 "Samples waiting in memory (the open batch and batches not sent yet).",
                 stat([=](const remote_write::sender& s) { return counter(s.stats().memory_samples); }));
    st.add_gauge("heartbeat_remote_write_spool_bytes{" + t + "}", "Bytes waiting in the on-disk spool.",
                 stat([=](const remote_write::sender& s) { return counter(s.stats().spool_bytes); }));
    st.add_gauge("heartbeat_remote_write_spool_samples{" + t + "}", "Samples waiting in the on-disk spool.",
                 stat([=](const remote_write::sender& s) { return counter(s.stats().spool_samples); }));
    st.add_gauge("heartbeat_remote_write_last_success_timestamp_seconds{" + t + "}",
                 "Unix time of the last request the target accepted (0: none yet).",
                 stat([](const remote_write::sender& s) { return s.stats().last_success.load(); }));
    for (std::size_t i = 0; i < remote_write::request_result_count; ++i) {
      auto r = static_cast<remote_write::request_result>(i);
      st.add_gauge(
          "heartbeat_remote_write_requests_total{" + t + ",result=\"" + remote_write::to_string(r) + "\"}",
          "Requests to the target by outcome.",
          stat([=](const remote_write::sender& s) { return counter(s.stats().requests[i]); }));
    }
  }
};

}  // namespace heartbeat::hbd
