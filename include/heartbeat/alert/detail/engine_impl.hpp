// Bodies of alert::engine (engine.hpp): binding leaves to rules and states,
// notification decisions, reminders, maintenance, JSON shapes. io thread only.
#pragma once

#include <algorithm>
#include <cstdio>

#include "heartbeat/alert/engine.hpp"

namespace heartbeat::alert {

namespace detail {

inline std::string body_text(std::string_view host, std::string_view path, std::string_view value) {
  std::string s(host);
  s += " - ";
  s += path;
  s += " = ";
  s += value;
  return s;
}

// "WARNING: h - p = v", "RECOVERED: h - p = v (WARNING -> OK)".
inline std::string change_text(std::string_view host, std::string_view path, level from, level to, double v) {
  std::string body = body_text(host, path, format_value(v));
  if (to == level::ok) return "RECOVERED: " + body + " (" + to_string(from) + " -> OK)";
  return std::string(to_string(to)) + ": " + body;
}

inline std::string seconds_text(double s) {
  return std::to_string(static_cast<long long>(s < 0 ? 0 : std::floor(s + 1e-9))) + "s";
}

inline std::string leaf_text(const protocol::leaf& l) {
  switch (l.type) {
    case protocol::leaf::kind::number: return format_value(l.number);
    case protocol::leaf::kind::string: return l.text;
    case protocol::leaf::kind::boolean: return l.number != 0 ? "true" : "false";
    case protocol::leaf::kind::null: return "null";
  }
  return "";
}

inline const protocol::leaf* find_leaf(std::span<const protocol::leaf> leaves, std::string_view path) {
  for (const auto& l : leaves)
    if (l.path == path) return &l;
  return nullptr;
}

inline json::value num_or_null(double v) { return std::isfinite(v) ? json::value(v) : json::value(); }

}  // namespace detail

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
                                    std::span<const protocol::leaf> leaves, double now,
                                    std::vector<transition>& out) {
  if (now >= maint_next_) refresh_maintenance(now, out);
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

inline void engine::evaluate_rtt(host_ref& ref, std::string_view host, double rtt_ms, double now,
                                 std::vector<transition>& out) {
  // Most setups have no RTT thresholds: then an HTB costs the engine nothing.
  if (rules_->rtt_exact.empty() && rules_->rtt_profile.empty()) return;
  if (now >= maint_next_) refresh_maintenance(now, out);
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

inline std::string engine::render_display(const rule& r, alert_state& st,
                                          std::span<const protocol::leaf> leaves, std::string_view leaf_path,
                                          bool capture) {
  if (r.display.empty()) return {};
  render_context ctx;
  ctx.value = st.m.last_value;
  ctx.threshold = st.threshold;
  ctx.oper = r.oper;
  ctx.check_name = st.check_name_;
  std::string_view metric = st.metric_path;
  if (auto dot = metric.find('.'); dot != std::string_view::npos) metric.remove_prefix(dot + 1);
  ctx.metric_name = leaf_path.empty() ? metric : leaf_path;
  std::string parent(leaf_path.substr(0, leaf_path.empty() ? 0 : leaf_path.rfind('.') + 1));
  if (leaf_path.find('.') == std::string_view::npos) parent.clear();
  std::string output, status;
  if (capture) {
    st.fields_.clear();
    if (!st.check_name_.empty()) {
      if (auto* l = detail::find_leaf(leaves, parent + st.check_name_ + "_output"))
        output = detail::leaf_text(*l);
      if (auto* l = detail::find_leaf(leaves, parent + st.check_name_ + "_status"))
        status = detail::leaf_text(*l);
    }
    st.fields_.emplace_back("\x01output", output);
    st.fields_.emplace_back("\x01status", status);
  } else {
    for (const auto& [k, v] : st.fields_) {
      if (k == "\x01output") output = v;
      if (k == "\x01status") status = v;
    }
  }
  if (status.empty() && r.oper == op::nagios && !st.check_name_.empty()) status = to_string(st.m.lvl);
  ctx.output = output;
  ctx.status = status;
  return r.display.render(ctx, [&](std::string_view field, std::string& v) {
    if (capture) {
      const protocol::leaf* l = detail::find_leaf(leaves, field);
      if (!l && !parent.empty()) l = detail::find_leaf(leaves, parent + std::string(field));
      if (!l) return false;
      v = detail::leaf_text(*l);
      st.fields_.emplace_back(std::string(field), v);
      return true;
    }
    for (const auto& [k, val] : st.fields_)
      if (k == field) return v = val, true;
    return false;
  });
}

inline void engine::on_change(host_entry& h, alert_state& st, const rule& r, const step_result& step,
                              double now, std::span<const protocol::leaf> leaves, std::string_view leaf_path,
                              std::vector<transition>& out, std::string_view why) {
  const level from = step.from, to = step.to;
  const double v = st.m.last_value;
  if (severity(from) <= 0 && to != level::ok) st.alert_since = now;
  if (to != level::ok) attend(static_cast<std::uint32_t>(&st - states_.data()));
  st.acknowledged = false;
  st.ack_by.clear();
  st.threshold = step.threshold;

  std::string reason;
  if (!why.empty()) {
    reason = std::string(why);
  } else if (r.oper == op::nagios) {
    reason = std::string(to == level::ok ? "recovered" : "raised") + ": exit code " + format_value(v) + " (" +
             to_string(to) + ")";
  } else if (to == level::unknown) {
    reason = "raised: value is not a number";
  } else if (to == level::ok && std::isnan(step.threshold)) {
    reason = "recovered: " + format_value(v) + " within thresholds (was " + to_string(from) + ")";
  } else if (to == level::ok) {
    double rec = r.recover_of(step.threshold);
    reason = "recovered: " + format_value(v) + " no longer " + to_string(r.oper) + " " + format_value(rec);
    if (r.hysteresis > 0 && r.oper != op::eq && r.oper != op::ne)
      reason += " (recovery threshold of " + format_value(step.threshold) + ")";
  } else {
    const char* verb = severity(from) <= 0             ? "raised"
                       : severity(to) > severity(from) ? "escalated"
                                                       : "de-escalated";
    reason = std::string(verb) + ": " + format_value(v) + " " + to_string(r.oper) + " " +
             format_value(step.threshold);
  }

  const bool deesc = to != level::ok && to != level::unknown && severity(from) > severity(to);
  const bool wants = !deesc && to != st.last_sent;
  std::string suppress;
  if (!h.watch)
    suppress = "watch false";
  else if (h.maint)
    suppress = "maintenance " + h.maint->name;
  const bool notify = wants && suppress.empty();
  if (deesc)
    reason += "; not notified: de-escalation";
  else if (!wants)
    reason += st.last_sent == level::ok ? "; not notified: nothing was sent" : "; not notified: already sent";
  else if (!notify)
    reason += "; suppressed: " + suppress;

  transition t;
  t.kind = transition_kind::change;
  t.host = h.name;
  t.metric_path = st.metric_path;
  t.from = from;
  t.to = to;
  t.value = v;
  t.threshold = step.threshold;
  t.ts = now;
  t.text = detail::change_text(h.name, st.metric_path, from, to, v);
  if (!why.empty() && to == level::unknown && std::isnan(v))
    t.text = std::string("UNKNOWN: ") + detail::body_text(h.name, st.metric_path, "no data");
  t.display = render_display(r, st, leaves, leaf_path, !leaves.empty() || (leaf_path.empty() && why.empty()));
  if (notify) {
    st.last_sent = to;
    st.last_sent_ts = now;
    if (to != level::ok) ++st.notification_count;
  }
  if (to == level::ok && (notify || st.last_sent == level::ok)) st.notification_count = 0;
  t.notify = notify;
  t.reason = reason;
  t.since = st.m.since;
  t.alert_since = st.alert_since;
  t.notification_count = st.notification_count;
  st.reason = std::move(reason);
  st.display = t.display;
  out.push_back(std::move(t));
}

inline const maintenance_window* engine::window_for(std::string_view host) const {
  for (const auto* w : maint_active_)
    if (w->applies_to(host)) return w;
  return nullptr;
}

// Runs only when a window starts or ends (maint_next_): recomputes the active set and, for
// every host leaving a window, sends the current level where it differs from the last one sent.
inline void engine::refresh_maintenance(double now, std::vector<transition>& out) {
  maint_active_.clear();
  double next = std::numeric_limits<double>::infinity();
  for (const auto& w : rules_->maintenance) {
    double change;
    if (w.active_at(now, change)) maint_active_.push_back(&w);
    next = std::min(next, change);
  }
  maint_next_ = next;
  for (auto& [name, hp] : hosts_) {
    host_entry& h = *hp;
    const maintenance_window* was = h.maint;
    h.maint = window_for(name);
    if (!was || h.maint || !h.watch) continue;
    for (const auto& [path, slot] : h.states) {
      alert_state& st = states_[slot];
      if (st.m.lvl == st.last_sent) continue;
      transition t;
      t.kind = transition_kind::resend;
      t.host = h.name;
      t.metric_path = st.metric_path;
      t.from = st.last_sent;
      t.to = st.m.lvl;
      t.value = st.m.last_value;
      t.threshold = st.threshold;
      t.ts = now;
      t.text = detail::change_text(h.name, st.metric_path, st.last_sent, st.m.lvl, st.m.last_value);
      if (st.rule_) t.display = render_display(*st.rule_, st, {}, {}, false);
      t.reason = "maintenance " + was->name + " ended: " + to_string(st.last_sent) + " was last sent, now " +
                 to_string(st.m.lvl);
      t.notify = true;
      st.last_sent = st.m.lvl;
      st.last_sent_ts = now;
      if (st.m.lvl == level::ok)
        st.notification_count = 0;
      else
        ++st.notification_count;
      t.since = st.m.since;
      t.alert_since = st.alert_since;
      t.notification_count = st.notification_count;
      st.reason = t.reason;
      out.push_back(std::move(t));
    }
  }
}

inline void engine::tick(double now, std::vector<transition>& out) {
  if (now >= maint_next_) refresh_maintenance(now, out);
  const double renotify = rules_->renotify_interval;
  // Compact the attention list first: drop states that recovered (and watch no missing data).
  std::size_t keep = 0;
  for (std::size_t i = 0; i < attention_.size(); ++i) {
    alert_state& st = states_[attention_[i]];
    const double missing = st.rule_ ? st.rule_->missing_after : rules_->missing_after;
    if (st.host.empty() || (st.m.lvl == level::ok && missing <= 0)) {
      st.attention_ = false;
      continue;
    }
    attention_[keep++] = attention_[i];
  }
  attention_.resize(keep);
  for (std::size_t i = 0; i < keep; ++i) {
    alert_state& st = states_[attention_[i]];
    if (st.host.empty()) continue;
    const double missing = st.rule_ ? st.rule_->missing_after : rules_->missing_after;
    const bool is_missing = missing > 0 && st.m.lvl != level::unknown && !std::isnan(st.m.last_value) &&
                            now - st.m.last_check >= missing;
    const bool remind = renotify > 0 && st.m.lvl != level::ok && st.last_sent != level::ok &&
                        !st.acknowledged && now - st.last_sent_ts >= renotify;
    if (!is_missing && !remind) continue;
    host_entry* h = find_host(st.host);
    if (!h) continue;
    if (is_missing && st.rule_) {
      step_result step;
      step.from = st.m.lvl;
      step.to = level::unknown;
      st.m.lvl = level::unknown;
      st.m.since = now;
      st.m.has_pending = false;
      st.m.last_value = NAN;
      on_change(*h, st, *st.rule_, step, now, {}, {}, out,
                "missing: no sample for " + detail::seconds_text(now - st.m.last_check));
      continue;
    }
    if (!remind || !h->watch || h->maint) continue;
    ++st.notification_count;
    st.last_sent_ts = now;
    transition t;
    t.kind = transition_kind::reminder;
    t.host = st.host;
    t.metric_path = st.metric_path;
    t.from = t.to = st.m.lvl;
    t.value = st.m.last_value;
    t.threshold = st.threshold;
    t.ts = now;
    std::string value = std::isnan(st.m.last_value) ? std::string("no data") : format_value(st.m.last_value);
    t.text = std::string("REMINDER (") + to_string(st.m.lvl) +
             "): " + detail::body_text(st.host, st.metric_path, value) + " (ongoing for " +
             detail::seconds_text(now - st.alert_since) + ")";
    if (st.rule_) t.display = render_display(*st.rule_, st, {}, {}, false);
    t.reason = std::string("reminder: ") + to_string(st.m.lvl) + " ongoing, renotify every " +
               detail::seconds_text(renotify);
    t.notify = true;
    t.since = st.m.since;
    t.alert_since = st.alert_since;
    t.notification_count = st.notification_count;
    out.push_back(std::move(t));
  }
}

inline result<transition> engine::ack(std::string_view host, std::string_view metric_path,
                                      std::string_view user, double now) {
  host_entry* h = find_host(host);
  const alert_state* found = find(host, metric_path);
  if (!h || !found)
    return make_error("not_found", "no alert " + std::string(metric_path) + " on host " + std::string(host));
  alert_state& st = states_[h->states.find(metric_path)->second];
  if (st.m.lvl == level::ok)
    return make_error("not_alerting", std::string(metric_path) + " on " + std::string(host) + " is OK");
  st.acknowledged = true;
  st.ack_by = std::string(user);
  st.ack_ts = now;
  transition t;
  t.kind = transition_kind::acknowledged;
  t.host = st.host;
  t.metric_path = st.metric_path;
  t.from = t.to = st.m.lvl;
  t.value = st.m.last_value;
  t.threshold = st.threshold;
  t.ts = now;
  t.text = std::string("ACKNOWLEDGED (") + to_string(st.m.lvl) +
           "): " + detail::body_text(st.host, st.metric_path, format_value(st.m.last_value)) +
           (user.empty() ? std::string() : " by " + std::string(user));
  t.reason = "acknowledged" + (user.empty() ? std::string() : " by " + std::string(user)) +
             ": reminders stop until the level changes";
  t.notify = false;
  t.since = st.m.since;
  t.alert_since = st.alert_since;
  t.notification_count = st.notification_count;
  return t;
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

inline std::string_view engine::maintenance_of(std::string_view host) const {
  if (const host_entry* h = find_host(host); h && h->maint) return h->maint->name;
  if (!find_host(host))
    if (const auto* w = window_for(host)) return w->name;
  return {};
}

inline const alert_state* engine::find(std::string_view host, std::string_view metric_path) const {
  const host_entry* h = find_host(host);
  if (!h) return nullptr;
  auto it = h->states.find(metric_path);
  return it == h->states.end() ? nullptr : &states_[it->second];
}

inline json::value to_json(const alert_state& s, std::string_view maintenance) {
  json::value o = json::value::object();
  o.set("metric_path", s.metric_path);
  o.set("level", to_string(s.m.lvl));
  o.set("since", s.m.since);
  o.set("last_value", detail::num_or_null(s.m.last_value));
  o.set("last_check", s.m.last_check);
  o.set("notification_count", s.notification_count);
  o.set("threshold", detail::num_or_null(s.threshold));
  o.set("acknowledged", s.acknowledged);
  o.set("ack_by", s.acknowledged ? json::value(s.ack_by) : json::value());
  o.set("reason", s.reason);
  o.set("display", s.display);
  o.set("maintenance", maintenance.empty() ? json::value() : json::value(maintenance));
  return o;
}

inline json::value to_store_json(const alert_state& s) {
  json::value o = json::value::object();
  o.set("host", s.host);
  o.set("metric_path", s.metric_path);
  o.set("level", to_string(s.m.lvl));
  o.set("since", s.m.since);
  o.set("last_value", detail::num_or_null(s.m.last_value));
  o.set("last_check", s.m.last_check);
  o.set("alert_since", s.alert_since);
  o.set("notification_count", s.notification_count);
  o.set("last_sent", to_string(s.last_sent));
  o.set("last_sent_ts", s.last_sent_ts);
  o.set("acknowledged", s.acknowledged);
  o.set("ack_by", s.ack_by);
  o.set("ack_ts", s.ack_ts);
  o.set("threshold", detail::num_or_null(s.threshold));
  o.set("reason", s.reason);
  o.set("display", s.display);
  o.set("check_name", s.check_name_);
  json::value f = json::value::object();
  for (const auto& [k, v] : s.fields_) f.set(k[0] == '\x01' ? "$" + k.substr(1) : k, v);
  o.set("fields", std::move(f));
  return o;
}

inline json::value to_json(const transition& t) {
  json::value o = json::value::object();
  o.set("hostname", t.host);
  o.set("metric_path", t.metric_path);
  o.set("level", to_string(t.to));
  o.set("since", t.since);
  o.set("last_value", detail::num_or_null(t.value));
  o.set("last_check", t.ts);
  o.set("notification_count", t.notification_count);
  o.set("kind", to_string(t.kind));
  o.set("from", to_string(t.from));
  o.set("to", to_string(t.to));
  o.set("value", detail::num_or_null(t.value));
  o.set("threshold", detail::num_or_null(t.threshold));
  o.set("text", t.text);
  o.set("display", t.display);
  o.set("reason", t.reason);
  o.set("notify", t.notify);
  o.set("ts", t.ts);
  o.set("alert_since", t.alert_since);
  return o;
}

inline json::value engine::host_alerts_json(std::string_view host) const {
  json::value o = json::value::object();
  o.set("hostname", host);
  json::value list = json::value::array();
  std::size_t counts[4] = {0, 0, 0, 0};
  if (const host_entry* h = find_host(host)) {
    std::vector<const alert_state*> v;
    for (const auto& [path, slot] : h->states) v.push_back(&states_[slot]);
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->metric_path < b->metric_path; });
    std::string_view maint = h->maint ? std::string_view(h->maint->name) : std::string_view();
    for (const auto* s : v) {
      list.push_back(to_json(*s, maint));
      ++counts[static_cast<int>(s->m.lvl)];
    }
  }
  o.set("alerts", std::move(list));
  json::value sum = json::value::object();
  sum.set("ok", counts[0]);
  sum.set("warning", counts[1]);
  sum.set("critical", counts[2]);
  sum.set("unknown", counts[3]);
  o.set("summary", std::move(sum));
  return o;
}

template <class Visible>
json::value engine::alerts_json(std::size_t host_count, Visible&& visible) const {
  std::vector<const alert_state*> v;
  for (const auto& s : states_)
    if (!s.host.empty() && s.m.lvl != level::ok && visible(std::string_view(s.host))) v.push_back(&s);
  auto rank = [](level l) { return l == level::critical ? 0 : l == level::warning ? 1 : 2; };
  std::sort(v.begin(), v.end(), [&](auto* a, auto* b) {
    if (rank(a->m.lvl) != rank(b->m.lvl)) return rank(a->m.lvl) < rank(b->m.lvl);
    if (a->host != b->host) return a->host < b->host;
    return a->metric_path < b->metric_path;
  });
  json::value list = json::value::array();
  std::size_t crit = 0, warn = 0, unk = 0;
  for (const auto* s : v) {
    const host_entry* h = find_host(s->host);
    json::value e = to_json(*s, h && h->maint ? std::string_view(h->maint->name) : std::string_view());
    json::value o = json::value::object();
    o.set("hostname", s->host);
    for (auto& [k, val] : e.as_object()) o.set(k, std::move(val));
    list.push_back(std::move(o));
    if (s->m.lvl == level::critical)
      ++crit;
    else if (s->m.lvl == level::warning)
      ++warn;
    else
      ++unk;
  }
  json::value o = json::value::object();
  o.set("alerts", std::move(list));
  json::value sum = json::value::object();
  sum.set("critical", crit);
  sum.set("warning", warn);
  sum.set("unknown", unk);
  sum.set("total", crit + warn + unk);
  o.set("summary", std::move(sum));
  o.set("host_count", host_count);
  return o;
}

inline json::value engine::export_state() const {
  json::value arr = json::value::array();
  for (const auto& s : states_)
    if (!s.host.empty()) arr.push_back(to_store_json(s));
  json::value o = json::value::object();
  o.set("version", 1);
  o.set("states", std::move(arr));
  return o;
}

inline result<std::size_t> engine::restore_state(const json::value& v) {
  const json::value* arr = &v;
  if (v.is_object()) arr = v.find("states");
  if (!arr || !arr->is_array())
    return make_error("bad_state", "alert state must be {\"states\": [...]} or a list");
  std::size_t n = 0;
  for (const auto& rec : arr->as_array()) {
    // A store record, or an alert event's data carrying one under "state".
    const json::value* sv = rec.find("state");
    const json::value& e = sv && sv->is_object() ? *sv : rec;
    if (!e.is_object()) continue;
    std::string host = e.string_or("host", e.string_or("hostname", ""));
    std::string path = e.string_or("metric_path", "");
    auto lvl = parse_level(e.string_or("level", ""));
    if (host.empty() || path.empty() || !lvl) continue;
    host_entry& h = host_of(host);
    const rule* r = nullptr;
    std::string check;
    if (path.rfind("rtt.", 0) == 0) {
      r = rules_->rtt_rule(host);
    } else {
      rule_match m = h.table->match_metric(path);
      r = m.r;
      if (r) check = path.substr(path.find('.') + 1 + m.check_begin, m.check_len);
    }
    if (!r) continue;
    std::uint32_t slot = state_slot(h, path, r);
    alert_state& st = states_[slot];
    st.m.lvl = *lvl;
    st.m.since = e.number_or("since", 0);
    const json::value* lv = e.find("last_value");
    st.m.last_value = lv && lv->is_number() ? lv->as_number() : NAN;
    st.m.last_check = e.number_or("last_check", 0);
    st.alert_since = e.number_or("alert_since", st.m.since);
    st.notification_count = static_cast<std::uint32_t>(e.number_or("notification_count", 0));
    st.last_sent = parse_level(e.string_or("last_sent", "OK")).value_or(level::ok);
    st.last_sent_ts = e.number_or("last_sent_ts", 0);
    st.acknowledged = e.bool_or("acknowledged", false);
    st.ack_by = e.string_or("ack_by", "");
    st.ack_ts = e.number_or("ack_ts", 0);
    const json::value* th = e.find("threshold");
    st.threshold = th && th->is_number() ? th->as_number() : NAN;
    st.reason = e.string_or("reason", "");
    st.display = e.string_or("display", "");
    st.check_name_ = e.string_or("check_name", check);
    st.fields_.clear();
    if (const json::value* f = e.find("fields"); f && f->is_object())
      for (const auto& [k, fv] : f->as_object())
        if (fv.is_string())
          st.fields_.emplace_back(k.size() && k[0] == '$' ? "\x01" + k.substr(1) : k, fv.as_string());
    if (st.m.lvl != level::ok || r->missing_after > 0) attend(slot);
    if (path.rfind("rtt.", 0) == 0) {
      h.rtt_resolved = true;
      h.rtt = r;
      h.rtt_state = slot;
    }
    ++n;
  }
  return n;
}

}  // namespace heartbeat::alert
