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
  layouts_.clear();
  for (auto& [name, h] : hosts_) {
    h->table = &rules_->table_for(name);
    auto w = watch_override_.find(name);
    h->watch = w != watch_override_.end() ? w->second : rules_->watch(name);
    h->plugins.clear();
    h->rtt_resolved = false;
    h->rtt = nullptr;
    h->rtt_state = npos;
    h->maint = nullptr;
    std::erase_if(h->states, [&](std::uint32_t slot) {
      alert_state& st = states_[slot];
      if (st.external_) {  // decided outside: no rule to look up
        st.rule_ = &external_rule();
        if (st.m.lvl != level::ok) attend(slot);
        return false;
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
        free_.push_back(slot);
        return true;
      }
      st.rule_ = m.r;
      if (st.m.lvl != level::ok || m.r->missing_after > 0) attend(slot);
      return false;
    });
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

// The host's entry for a plugin with rules (null when the plugin has none), on the layout its
// rule table shares with every other host.
inline engine::plugin_entry* engine::plugin_of(host_entry& h, std::string_view plugin) {
  for (auto& p : h.plugins)
    if (p.lay->plugin == plugin) return &p;
  const plugin_rules* rules = h.table->plugin(plugin);
  if (!rules) return nullptr;
  auto& lay = layouts_[rules];
  if (!lay) {
    lay = std::make_unique<layout>();
    lay->plugin = std::string(plugin);
    lay->rules = rules;
  }
  h.plugins.push_back(plugin_entry{lay.get(), {}});
  return &h.plugins.back();
}

inline std::uint32_t engine::state_slot(host_entry& h, std::string metric_path, const rule* r) {
  if (std::uint32_t found = h.state_of(states_, metric_path); found != npos) {
    states_[found].rule_ = r;
    return found;
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
  st.slot_ = slot;
  st.host = h.name;
  st.metric_path = std::move(metric_path);
  st.rule_ = r;
  h.states.push_back(slot);
  if (r && r->missing_after > 0) attend(slot);
  return slot;
}

// The binding of `leaf_path` in the shared layout (npos: past the cache bound and without rule).
inline std::uint32_t engine::resolve(layout& l, std::string_view leaf_path, std::size_t pos) {
  std::uint32_t idx;
  if (auto it = l.index.find(leaf_path); it != l.index.end()) {
    idx = it->second;
  } else {
    rule_match m = match_rule(*l.rules, leaf_path);
    if (!m.r && l.bindings.size() >= max_cached_paths) return npos;  // too many distinct names
    binding b;
    b.leaf_path = std::string(leaf_path);
    b.r = m.r;
    b.check_begin = m.check_begin;
    b.check_len = m.check_len;
    idx = static_cast<std::uint32_t>(l.bindings.size());
    l.bindings.push_back(std::move(b));
    l.index.emplace(l.bindings.back().leaf_path, idx);
  }
  if (pos < max_cached_paths) {
    if (l.order.size() <= pos) l.order.resize(pos + 1, npos);
    l.order[pos] = idx;
  }
  return idx;
}

inline void engine::evaluate_plugin(host_ref& ref, std::string_view host, std::string_view plugin,
                                    std::span<const protocol::leaf> leaves, clock::instant now,
                                    std::vector<transition>& out) {
  if (maintenance_due(now)) refresh_maintenance(now, out);
  host_entry& h = host_of(ref, host);
  if (h.table->plugins.empty()) return;  // no thresholds for this host at all
  plugin_entry* p = plugin_of(h, plugin);
  if (!p) return;
  layout& lay = *p->lay;
  const std::size_t n = leaves.size();
  for (std::size_t i = 0; i < n; ++i) {
    const protocol::leaf& l = leaves[i];
    if (l.type != protocol::leaf::kind::number && l.type != protocol::leaf::kind::boolean) continue;
    std::uint32_t bi;
    if (i < lay.order.size() && lay.order[i] != npos && lay.bindings[lay.order[i]].leaf_path == l.path)
      bi = lay.order[i];
    else
      bi = resolve(lay, l.path, i);
    if (bi == npos) continue;
    const binding& b = lay.bindings[bi];
    if (!b.r) continue;
    std::uint32_t slot = p->slot_of(bi);
    if (slot == npos) {
      slot = state_slot(h, lay.plugin + "." + b.leaf_path, b.r);
      p->slots.emplace_back(bi, slot);
    }
    alert_state& st = states_[slot];  // st.rule_ == b.r (set when the slot was bound)
    step_result r = evaluate(*b.r, st.m, l.number, now);
    if (r.changed) {
      st.check_name_.assign(std::string_view(b.leaf_path).substr(b.check_begin, b.check_len));
      on_change(h, st, *b.r, r, now, leaves, b.leaf_path, out);
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
  std::uint32_t slot = h.state_of(states_, metric_path);
  if (slot == npos) slot = state_slot(h, std::string(metric_path), &external_rule());
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
  const std::uint32_t slot = h->state_of(states_, metric_path);
  if (slot == npos) return;
  for (auto& p : h->plugins) std::erase_if(p.slots, [&](const auto& bs) { return bs.second == slot; });
  if (h->rtt_state == slot) h->rtt_state = npos, h->rtt_resolved = false;
  bool listed = states_[slot].attention_;
  states_[slot] = alert_state{};
  states_[slot].attention_ = listed;  // tick() compacts it away
  free_.push_back(slot);
  h->drop_state(slot);
}

inline void engine::set_watch(std::string_view host, bool watch) {
  watch_override_.insert_or_assign(std::string(host), watch);
  if (host_entry* h = find_host(host)) h->watch = watch;
}

inline void engine::forget_host(std::string_view host) {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return;
  for (std::uint32_t slot : it->second->states) {
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
  const std::uint32_t slot = h->state_of(states_, metric_path);
  return slot == npos ? nullptr : &states_[slot];
}

}  // namespace heartbeat::alert
