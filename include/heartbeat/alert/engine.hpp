// The alert engine: owns every metric's alert state, evaluates PLG leaves and
// HTB RTTs against the compiled ruleset, runs reminders / missing data /
// maintenance ends on tick(), and answers the alerts endpoints. Lives on the io
// thread (single owner, no locks); reads no clock: every call takes `now`, both
// faces (clock::instant): reminders, missing data and `for` run on the monotonic
// one, maintenance windows (calendar times) and every stamp on the wall one.
//
// Server integration (see docs/ALERTING.md):
//   ruleset rs = alert::compile_rules(cfg.root, diag);   // load / check-config / reload
//   alert::engine eng(std::move(rs));
//   std::vector<alert::transition> out;                  // reused, cleared by the caller
//   eng.evaluate_plugin(host, plg.plugin, {plg.leaves.data(), plg.leaf_count}, now, out);
//   eng.evaluate_rtt(host, *htb.rtt, now, out);
//   eng.tick(now, out);                                  // every second from the monitor coroutine
//   for (auto& t : out) { publish event_kind::alert with alert::to_json(t); if (t.notify)
//   notifier.submit(...); }
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "heartbeat/alert/evaluate.hpp"
#include "heartbeat/alert/rules.hpp"
#include "heartbeat/alert/types.hpp"
#include "heartbeat/core/chunked_vector.hpp"
#include "heartbeat/core/compact_string.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/protocol/messages.hpp"

namespace heartbeat::alert {

// Everything the engine keeps about one (host, metric_path).
struct alert_state {
  // First: the evaluator touches only this on the hot path (one cache line).
  metric_state m;  // level, since, last_value, last_check, pending (evaluate.hpp)
  std::string host;
  std::string metric_path;
  double alert_since = 0;                // when the metric left OK (reminders' "ongoing for")
  double alert_since_mono = 0;           // the same, monotonic (NaN after a restore: mapped at first use)
  std::uint32_t notification_count = 0;  // notifications sent in the current episode (0 once OK)
  level last_sent = level::ok;           // the level the last notification announced
  double last_sent_ts = 0;               // when it was sent (wall)
  double last_sent_mono = 0;             // the same, monotonic: reminders count from here
  std::uint32_t reminders = 0;           // reminders sent since the last change (backoff exponent)
  bool acknowledged = false;             // stops reminders until the level changes
  compact_string ack_by;
  double ack_ts = 0;
  double threshold = NAN;  // the threshold of the last transition
  compact_string reason;   // the reason of the last transition
  compact_string display;  // the display template rendered at the last transition
  // Internal: the rule this state is bound to (null until the first sample after a restore/reload).
  const rule* rule_ = nullptr;
  compact_string check_name_;  // generic-match prefix, for {check_name}
  std::vector<std::pair<std::string, std::string>>
      fields_;              // template fields captured at the last transition
  std::uint32_t slot_ = 0;  // its index in the engine's states
  bool attention_ = false;  // listed for tick() (not OK, or its rule has missing_after)
  // A level decided outside the engine (set_external: an active check) and the words its texts
  // use ("shop - shop-front: HTTP 503 from …"); such a state needs no rule.
  bool external_ = false;
  compact_string subject_;
};

// The rule external states are bound to: no thresholds, no missing-data detection, no display.
inline const rule& external_rule() {
  static const rule r = [] {
    rule x;
    x.path = x.source = "external";
    return x;
  }();
  return r;
}

// The alert as /api/0/hosts/{h}/alerts lists it (docs/ALERTING.md "JSON shapes"):
// metric_path, level, since, last_value, last_check, notification_count, threshold,
// acknowledged, ack_by, reason, display, maintenance (window name or null).
json::value to_json(const alert_state& s, std::string_view maintenance = {});
// The full record for the store (restore_state reads it back).
json::value to_store_json(const alert_state& s);
// The event_kind::alert payload: the /api/0/alerts entry (hostname, metric_path, level, since,
// last_value, last_check, notification_count) plus kind, from, to, value, threshold, text,
// display, reason, notify, ts.
json::value to_json(const transition& t);

class engine {
 public:
  explicit engine(ruleset rules = {});

  // Swaps the rules (config reload). States are kept; each rebinds to its metric's new rule at
  // its next sample; states whose metric no longer has a rule are dropped.
  void set_rules(ruleset rules);
  const ruleset& rules() const noexcept { return *rules_; }
  // The immutable compiled rules, shareable with other threads (e.g. the notifier checking
  // alert::window_covering(rules->maintenance, host, now) for host DOWN/UP events).
  std::shared_ptr<const ruleset> rules_ptr() const noexcept { return rules_; }

  // Evaluates every numeric (and boolean) leaf of one PLG. Appends transitions to `out`.
  // Hot path: no allocation, no clock, no parsing once the host's leaf paths are known.
  void evaluate_plugin(host_ref& ref, std::string_view host, std::string_view plugin,
                       std::span<const protocol::leaf> leaves, clock::instant now,
                       std::vector<transition>& out);
  void evaluate_plugin(std::string_view host, std::string_view plugin, std::span<const protocol::leaf> leaves,
                       clock::instant now, std::vector<transition>& out) {
    host_ref ref;
    evaluate_plugin(ref, host, plugin, leaves, now, out);
  }
  // Evaluates an HTB's RTT (ms) against thresholds.rtt.<host> (metric path "rtt.<host>").
  void evaluate_rtt(host_ref& ref, std::string_view host, double rtt_ms, clock::instant now,
                    std::vector<transition>& out);
  void evaluate_rtt(std::string_view host, double rtt_ms, clock::instant now, std::vector<transition>& out) {
    host_ref ref;
    evaluate_rtt(ref, host, rtt_ms, now, out);
  }
  // A level decided outside the engine (an active check, docs/CHECKS.md): the state of (host,
  // metric_path) moves to `to` with `value`; `subject` words its texts ("CRITICAL: <subject>",
  // "RECOVERED: <subject> (CRITICAL -> OK)") and `why` is the reason. From there it is an alert
  // like the others: watch, maintenance, acknowledgement, reminders, the store. Appends the
  // transition, when the level changed, to `out`.
  void set_external(std::string_view host, std::string_view metric_path, level to, double value,
                    std::string subject, std::string_view why, double now, std::vector<transition>& out);
  // Forgets one state (an active check removed from the configuration).
  void forget(std::string_view host, std::string_view metric_path);

  // Reminders, missing data -> UNKNOWN, maintenance window starts/ends. Call about once a second.
  // Missing data is judged at monotonic `live` when given (hbd's liveness clock: the moment up to
  // which every datagram was read), so samples waiting unread in a socket buffer during an io
  // stall are not "missing".
  void tick(clock::instant now, std::vector<transition>& out, double live);
  void tick(clock::instant now, std::vector<transition>& out) { tick(now, out, now.mono); }

  // Acknowledges a non-OK alert: no more reminders until its level changes. Errors:
  // "not_found" (no such alert), "not_alerting" (the metric is OK). Returns the
  // `acknowledged` transition (notify=false) for the journal and event bus.
  result<transition> ack(std::string_view host, std::string_view metric_path, std::string_view user,
                         double now);

  // hosts.<h>.watch changed at run time (the config value is in the ruleset).
  void set_watch(std::string_view host, bool watch);
  // The host was dropped through the API: forget its states.
  void forget_host(std::string_view host);

  // GET /api/0/hosts/{h}/alerts: {"hostname","alerts":[...all levels, by metric_path],
  // "summary":{"ok","warning","critical","unknown"}}.
  json::value host_alerts_json(std::string_view host) const;
  // GET /api/0/alerts: {"alerts":[non-OK, CRITICAL first],"summary":{"critical","warning",
  // "unknown","total"},"host_count"}. `visible(host)` (or `visible(host, metric_path)`) filters by
  // the caller's roles.
  // write_alerts() renders it straight into `out` (no DOM: tens of thousands of alerts at a
  // million hosts); alerts_json() parses that back.
  template <class Visible>
  void write_alerts(std::string& out, std::size_t host_count, Visible&& visible) const;
  template <class Visible>
  json::value alerts_json(std::size_t host_count, Visible&& visible) const;
  json::value alerts_json(std::size_t host_count) const {
    return alerts_json(host_count, [](std::string_view) { return true; });
  }

  // The name of the maintenance window covering `host` at the last evaluation, or empty.
  std::string_view maintenance_of(std::string_view host) const;

  // Persistence: every state as {"version":1,"states":[to_store_json...]}; restore accepts that
  // object or a bare array, of store records or of alert event data carrying one under "state"
  // (what hbd publishes); returns how many states were restored (entries without a matching
  // rule are skipped).
  json::value export_state() const;
  result<std::size_t> restore_state(const json::value& v);

  // Queries.
  const alert_state* find(std::string_view host, std::string_view metric_path) const;
  std::size_t state_count() const noexcept { return states_.size() - free_.size(); }
  // Calls f(const alert_state&) for every state (for /metrics).
  template <class F>
  void for_each_state(F&& f) const {
    for (std::size_t i = 0; i < states_.size(); ++i)
      if (states_[i].rule_ || !states_[i].host.empty()) f(states_[i]);
  }

 private:
  static constexpr std::uint32_t npos = 0xffffffffu;
  static constexpr std::size_t max_cached_paths =
      4096;  // per plugin: bounds memory for hosts inventing names

  // A leaf path of one plugin resolved once against that plugin's rules: its rule (or none).
  struct binding {
    std::string leaf_path;
    const rule* r = nullptr;
    std::uint32_t check_begin = 0, check_len = 0;
  };
  // The leaf paths of one plugin under one rule table, shared by every host that table covers:
  // a fleet of hosts with the same plugins resolves each path once, and a host pays only for the
  // states of the leaves a rule matches (plugin_entry).
  struct layout {
    std::string plugin;
    const plugin_rules* rules = nullptr;
    std::vector<binding> bindings;
    string_map<std::uint32_t> index;
    std::vector<std::uint32_t> order;  // binding of the i-th leaf of the last sample (leaf order is stable)
  };
  // One host's plugin that has rules: the layout and the state slot of each ruled leaf seen.
  struct plugin_entry {
    layout* lay = nullptr;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> slots;  // (binding, state slot); few per plugin
    std::uint32_t slot_of(std::uint32_t b) const noexcept {
      for (const auto& [bi, slot] : slots)
        if (bi == b) return slot;
      return npos;
    }
  };
  struct host_entry {
    std::string name;
    const rule_table* table = nullptr;
    bool watch = true;
    bool rtt_resolved = false;
    const rule* rtt = nullptr;
    std::uint32_t rtt_state = npos;
    const maintenance_window* maint = nullptr;  // the window covering the host now
    std::vector<plugin_entry> plugins;          // plugins with rules only
    std::vector<std::uint32_t> states;          // this host's state slots (few: a linear search)
    std::uint32_t state_of(const chunked_vector<alert_state>& all, std::string_view path) const {
      for (std::uint32_t slot : states)
        if (all[slot].metric_path == path) return slot;
      return npos;
    }
    void drop_state(std::uint32_t slot) { std::erase(states, slot); }
  };

  std::shared_ptr<const ruleset> rules_;
  std::unordered_map<const plugin_rules*, std::unique_ptr<layout>> layouts_;  // rebuilt with the rules
  string_map<std::unique_ptr<host_entry>> hosts_;
  chunked_vector<alert_state> states_;  // by slot; a million hosts' states never move
  std::vector<std::uint32_t> free_;
  // The states tick() looks at: not OK, or with missing data detection. OK states without
  // missing_after (the vast majority) cost tick() nothing.
  std::vector<std::uint32_t> attention_;
  void attend(std::uint32_t slot) {
    alert_state& st = states_[slot];
    if (st.attention_) return;
    st.attention_ = true;
    attention_.push_back(slot);
  }
  string_map<bool> watch_override_;
  double maint_next_ = -std::numeric_limits<double>::infinity();  // next time a window starts or ends (wall)
  double maint_offset_ = 0;  // wall minus monotonic at the last window check: a clock step re-checks at once
  bool maintenance_due(clock::instant now) const noexcept {
    return now.wall >= maint_next_ || std::fabs(now.wall - now.mono - maint_offset_) > 1.0;
  }
  // A monotonic twin of a wall time, mapped once when it was restored from the store (NaN).
  static double mono_twin(double& mono, double wall, clock::instant now) noexcept {
    if (std::isnan(mono)) mono = now.mono_of(wall);
    return mono;
  }
  std::vector<const maintenance_window*> maint_active_;

  host_entry& host_of(std::string_view host);
  host_entry& host_of(host_ref& ref, std::string_view host) {
    if (ref.owner_ == this && ref.generation_ == generation_) return *static_cast<host_entry*>(ref.entry_);
    host_entry& h = host_of(host);
    ref.owner_ = this;
    ref.entry_ = &h;
    ref.generation_ = generation_;
    return h;
  }
  std::uint64_t generation_ = 1;  // bumped when a host entry is erased (invalidates host_refs)
  host_entry* find_host(std::string_view host) const {
    auto it = hosts_.find(host);
    return it == hosts_.end() ? nullptr : it->second.get();
  }
  plugin_entry* plugin_of(host_entry& h, std::string_view plugin);
  std::uint32_t resolve(layout& l, std::string_view leaf_path, std::size_t pos);
  std::uint32_t state_slot(host_entry& h, std::string metric_path, const rule* r);
  void refresh_maintenance(clock::instant now, std::vector<transition>& out);
  const maintenance_window* window_for(std::string_view host) const;
  void on_change(host_entry& h, alert_state& st, const rule& r, const step_result& step, clock::instant now,
                 std::span<const protocol::leaf> leaves, std::string_view leaf_path,
                 std::vector<transition>& out, std::string_view why = {});
  std::string render_display(const rule& r, alert_state& st, std::span<const protocol::leaf> leaves,
                             std::string_view leaf_path, bool capture);
  void rebind_all();
  double reminder_wait(std::uint32_t sent) const;
};

}  // namespace heartbeat::alert

#include "heartbeat/alert/detail/engine_bind.hpp"
#include "heartbeat/alert/detail/engine_changes.hpp"
#include "heartbeat/alert/detail/engine_json.hpp"
