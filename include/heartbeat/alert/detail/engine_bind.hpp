// Bodies of alert::engine (engine.hpp) that bind PLG leaves and RTTs to rules
// and state slots: host and plugin entries, the per-leaf binding cache,
// evaluate_plugin / evaluate_rtt (the per-sample hot path), rule swaps and
// forgetting hosts. io thread only.
#pragma once

#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "heartbeat/alert/engine.hpp"

namespace heartbeat::alert {

inline engine::engine(ruleset rules) : rules_(std::make_shared<const ruleset>(std::move(rules))) {}

inline void engine::set_rules(ruleset rules) {
  rules_ = std::make_shared<const ruleset>(std::move(rules));
  maint_next_ = -std::numeric_limits<double>::infinity();
  maint_active_.clear();
  rebind_all();
}

// Drops every cached binding and rebinds states to the new rules by metric path.
inline void engine::rebind_all() {
  attention_.clear();
  for (auto& st : states_) st.attention_ = false;
  for (auto& [name, h] : hosts_) {
    h->table = &rules_->table_for(name);
    auto w = watch_override_.find(name);
    h->watch = w != watch_override_.end() ? w->second : rules_->watch(name);
    h->plugins.clear();
    h->rtt_resolved = false;
    h->rtt = nullptr;
    h->rtt_state = npos;
    h->maint = nullptr;
    for (auto it = h->states.begin(); it != h->states.end();) {
      alert_state& st = states_[it->second];
      if (st.external_) {  // decided outside: no rule to look up
        st.rule_ = &external_rule();
        if (st.m.lvl != level::ok) attend(it->second);
        ++it;
        continue;
      }
      rule_match m;
      if (st.metric_path.rfind("rtt.", 0) == 0)
        m.r = rules_->rtt_rule(name);
      else
        m = h->table->match_metric(st.metric_path);
      if (!m.r) {
        bool listed = st.attention_;
        st = alert_state{};
        st.attention_ = listed;  // still in attention_ until tick() compacts it
        free_.push_back(it->second);
        it = h->states.erase(it);
        continue;
      }
      st.rule_ = m.r;
      if (st.m.lvl != level::ok || m.r->missing_after > 0) attend(it->second);
      ++it;
    }
  }
}

inline engine::host_entry& engine::host_of(std::string_view host) {
  auto it = hosts_.find(host);
  if (it != hosts_.end()) return *it->second;
  auto h = std::make_unique<host_entry>();
  h->name = std::string(host);
  h->table = &rules_->table_for(host);
  auto w = watch_override_.find(host);
  h->watch = w != watch_override_.end() ? w->second : rules_->watch(host);
  h->maint = window_for(host);
  auto& ref = *h;
  hosts_.emplace(h->name, std::move(h));
  return ref;
}

inline engine::plugin_entry& engine::plugin_of(host_entry& h, std::string_view plugin) {
  for (auto& p : h.plugins)
    if (p->name == plugin) return *p;
  auto p = std::make_unique<plugin_entry>();
  p->name = std::string(plugin);
  p->rules = h.table->plugin(plugin);
  h.plugins.push_back(std::move(p));
  return *h.plugins.back();
}

inline std::uint32_t engine::state_slot(host_entry& h, std::string metric_path, const rule* r) {
  if (auto it = h.states.find(metric_path); it != h.states.end()) {
    states_[it->second].rule_ = r;
    return it->second;
  }
  std::uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(states_.size());
    states_.emplace_back();
  }
  alert_state& st = states_[slot];
  bool listed = st.attention_;
  st = alert_state{};
  st.attention_ = listed;
  st.host = h.name;
  st.metric_path = metric_path;
  st.rule_ = r;
  h.states.emplace(std::move(metric_path), slot);
  if (r && r->missing_after > 0) attend(slot);
  return slot;
}

inline engine::binding& engine::resolve(host_entry& h, plugin_entry& p, std::string_view leaf_path,
                                        std::size_t pos) {
  std::uint32_t idx;
  if (auto it = p.index.find(leaf_path); it != p.index.end()) {
    idx = it->second;
  } else {
    rule_match m = match_rule(*p.rules, leaf_path);
    if (!m.r && p.bindings.size() >= max_cached_paths) {
      // Too many distinct names: resolve uncached (a scratch binding without rule).
      static thread_local binding scratch;
      scratch = binding{};
      return scratch;
    }
    binding b;
    b.leaf_path = std::string(leaf_path);
    b.r = m.r;
    b.check_begin = m.check_begin;
    b.check_len = m.check_len;
    if (m.r) b.state = state_slot(h, p.name + "." + b.leaf_path, m.r);
    idx = static_cast<std::uint32_t>(p.bindings.size());
    p.bindings.push_back(std::move(b));
    p.index.emplace(p.bindings.back().leaf_path, idx);
  }
  if (pos < max_cached_paths) {
    if (p.order.size() <= pos) p.order.resize(pos + 1, npos);
    p.order[pos] = idx;
  }
  return p.bindings[idx];
}

inline void engine::evaluate_plugin(host_ref& ref, std::string_view host, std::string_view plugin,
                                    std::span<const protocol::leaf> leaves, clock::instant now,
                                    std::vector<transition>& out) {
  if (maintenance_due(now)) refresh_maintenance(now, out);
  host_entry& h = host_of(ref, host);
  if (h.table->plugins.empty()) return;  // no thresholds for this host at all
  plugin_entry& p = plugin_of(h, plugin);
  if (!p.rules) return;
  const std::size_t n = leaves.size();
  for (std::size_t i = 0; i < n; ++i) {
    const protocol::leaf& l = leaves[i];
    if (l.type != protocol::leaf::kind::number && l.type != protocol::leaf::kind::boolean) continue;
    binding* b;
    if (i < p.order.size() && p.order[i] != npos && p.bindings[p.order[i]].leaf_path == l.path)
      b = &p.bindings[p.order[i]];
    else
      b = &resolve(h, p, l.path, i);
    if (!b->r) continue;
    if (b->state == npos) b->state = state_slot(h, p.name + "." + b->leaf_path, b->r);
    alert_state& st = states_[b->state];  // st.rule_ == b->r (set when the binding was made)
    step_result r = evaluate(*b->r, st.m, l.number, now);
    if (r.changed) {
      st.check_name_.assign(std::string_view(b->leaf_path).substr(b->check_begin, b->check_len));
      on_change(h, st, *b->r, r, now, leaves, b->leaf_path, out);
    }
  }
}

inline void engine::evaluate_rtt(host_ref& ref, std::string_view host, double rtt_ms, clock::instant now,
                                 std::vector<transition>& out) {
  // Most setups have no RTT thresholds: then an HTB costs the engine nothing.
  if (rules_->rtt_exact.empty() && rules_->rtt_profile.empty()) return;
  if (maintenance_due(now)) refresh_maintenance(now, out);
  host_entry& h = host_of(ref, host);
  if (!h.rtt_resolved) {
    h.rtt_resolved = true;
    h.rtt = rules_->rtt_rule(host);
    if (h.rtt) h.rtt_state = state_slot(h, "rtt." + h.name, h.rtt);
  }
  if (!h.rtt) return;
  alert_state& st = states_[h.rtt_state];
  st.rule_ = h.rtt;
  step_result r = evaluate(*h.rtt, st.m, rtt_ms, now);
  if (r.changed) on_change(h, st, *h.rtt, r, now, {}, {}, out);
}

inline void engine::set_external(std::string_view host, std::string_view metric_path, level to, double value,
                                 std::string subject, std::string_view why, double now,
                                 std::vector<transition>& out) {
  if (now >= maint_next_) refresh_maintenance(now, out);
  host_entry& h = host_of(host);
  auto it = h.states.find(metric_path);
  const std::uint32_t slot =
      it != h.states.end() ? it->second : state_slot(h, std::string(metric_path), &external_rule());
  alert_state& st = states_[slot];
  st.rule_ = &external_rule();
  st.external_ = true;
  st.subject_ = std::move(subject);
  st.m.last_value = value;
  st.m.last_check = now;
  if (st.m.lvl == to) return;
  step_result step;
  step.changed = true;
  step.from = st.m.lvl;
  step.to = to;
  st.m.lvl = to;
  st.m.since = now;
  st.m.has_pending = false;
  on_change(h, st, external_rule(), step, now, {}, {}, out, why);
}

inline void engine::forget(std::string_view host, std::string_view metric_path) {
  host_entry* h = find_host(host);
  if (!h) return;
  auto it = h->states.find(metric_path);
  if (it == h->states.end()) return;
  const std::uint32_t slot = it->second;
  bool listed = states_[slot].attention_;
  states_[slot] = alert_state{};
  states_[slot].attention_ = listed;  // tick() compacts it away
  free_.push_back(slot);
  h->states.erase(it);
}

inline void engine::set_watch(std::string_view host, bool watch) {
  watch_override_.insert_or_assign(std::string(host), watch);
  if (host_entry* h = find_host(host)) h->watch = watch;
}

inline void engine::forget_host(std::string_view host) {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return;
  for (const auto& [path, slot] : it->second->states) {
    bool listed = states_[slot].attention_;
    states_[slot] = alert_state{};
    states_[slot].attention_ = listed;
    free_.push_back(slot);
  }
  hosts_.erase(it);
  ++generation_;
}

inline const alert_state* engine::find(std::string_view host, std::string_view metric_path) const {
  const host_entry* h = find_host(host);
  if (!h) return nullptr;
  auto it = h->states.find(metric_path);
  return it == h->states.end() ? nullptr : &states_[it->second];
}

}  // namespace heartbeat::alert
