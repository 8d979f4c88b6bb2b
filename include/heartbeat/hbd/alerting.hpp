// hbd's alert engine, wired: compiled from the configuration (again on SIGHUP),
// restored from the store, fed PLG leaves and HTB RTTs by the registry's hooks and
// timers by the monitor's tick; each transition becomes an alert event on the bus
// (journal, store, WebSocket, notifier) and, when it notifies, a message. io thread.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "heartbeat/alert/engine.hpp"
#include "heartbeat/alert/rules.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/hbd/core.hpp"
#include "heartbeat/hbd/persistence.hpp"
#include "heartbeat/notify/stages/maintenance.hpp"

namespace heartbeat::hbd {

class alerting {
 public:
  alerting(core& c, persistence& p) : c_(c), persist_(p) {}

  void start() {
    compile();
    if (auto states = persist_.take_alert_states(); !states.empty()) {
      json::value arr = json::value::array();
      for (auto& a : states) arr.push_back(std::move(a));
      if (auto n = engine_.restore_state(arr)) log::info("alert: restored ", *n, " alert states");
    }
    auto& hooks = c_.reg.hooks();
    hooks.plugin_sample = [this](server::host& h, const protocol::plugin_msg& m, clock::instant now) {
      // PLG data goes to the store from the raw text (the store sink skips plugin events).
      if (auto* s = persist_.store()) s->put_plugin(h.name, m.plugin, m.ts ? *m.ts : now.wall, m.data_json);
      engine_.evaluate_plugin(h.alert_ref, h.name, m.plugin, {m.leaves.data(), m.leaf_count}, now, out_);
      publish();
    };
    hooks.rtt_sample = [this](server::host& h, double rtt_ms, clock::instant now) {
      engine_.evaluate_rtt(h.alert_ref, h.name, rtt_ms, now, out_);
      publish();
    };
    c_.monitor.on_tick = [this, prev = std::move(c_.monitor.on_tick)](clock::instant now) {
      if (prev) prev(now);
      engine_.tick(now, out_, c_.reg.liveness().live());  // missing data on the liveness clock
      publish();
    };
    c_.reg.events().subscribe(
        [this](const bus::event& e) {
          if (e.kind == bus::event_kind::dropped) engine_.forget_host(e.host);
        },
        bus::event_bit(bus::event_kind::dropped));
  }

  // SIGHUP: the new configuration's rules (errors were reported when it was loaded).
  void reload() { compile(); }

  alert::engine& engine() noexcept { return engine_; }

  // Adds fields to each alert event before it is published (the checks part: an active check's
  // services and recipients).
  std::function<void(const alert::transition&, json::value& data)> decorate;

  // Publishes transitions made outside the engine's own hooks (an active check's result) like
  // its own, and clears `out`.
  void publish(std::vector<alert::transition>& out) {
    for (const auto& t : out) {
      bus::event e;
      e.kind = bus::event_kind::alert;
      e.ts = t.ts;
      e.host = t.host;
      e.data = alert::to_json(t);
      if (const auto* st = engine_.find(t.host, t.metric_path))
        e.data.set("state", alert::to_store_json(*st));
      if (decorate) decorate(t, e.data);
      log::info("alert: ", t.text, " (", t.reason, ")");
      if (t.notify)
        c_.reg.add_message(t.ts, t.host, t.display.empty() ? t.text : t.text + " " + t.display, "alert");
      c_.reg.events().publish(e);
    }
    out.clear();
  }

  // The live maintenance windows for the notifier's thread: the ruleset is immutable and
  // shared (a reload installs a new check with the new ruleset).
  notify::stages::maintenance::check_fn maintenance_check() const {
    return [rules = engine_.rules_ptr()](const std::string& host, double now) {
      return rules && alert::window_covering(rules->maintenance, host, now) != nullptr;
    };
  }

 private:
  core& c_;
  persistence& persist_;
  alert::engine engine_;
  std::vector<alert::transition> out_;  // reused: no allocation per sample

  void compile() {
    cfg::diagnostics quiet;  // load_config reported them
    engine_.set_rules(alert::compile_rules(c_.cfg.root, quiet));
  }

  // Each transition becomes an alert event: data = alert::to_json(t) plus the state record
  // the store restores from.
  void publish() {
    if (!out_.empty()) publish(out_);
  }
};

}  // namespace heartbeat::hbd
