// Bodies of alert::engine (engine.hpp) for what follows a level change: the
// transition's texts and reason, the notify / suppress decision, display
// rendering; and what tick() drives: missing data, reminders, maintenance
// windows starting and ending, acknowledgements. io thread only.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

// The texts of an external state: "CRITICAL: <subject>", "RECOVERED: <subject> (CRITICAL -> OK)".
inline std::string external_text(std::string_view subject, level from, level to) {
  if (to == level::ok) return "RECOVERED: " + std::string(subject) + " (" + to_string(from) + " -> OK)";
  return std::string(to_string(to)) + ": " + std::string(subject);
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

// The transition of `st` (on host `host`) from `from` to `to` at `now`; the caller adds the text,
// display, reason and notify, then stamp() copies the state's times and count as they end up.
inline transition make_transition(transition_kind k, const std::string& host, const alert_state& st,
                                  level from, level to, double value, double threshold, double now) {
  return {.kind = k,
          .host = host,
          .metric_path = st.metric_path,
          .from = from,
          .to = to,
          .value = value,
          .threshold = threshold,
          .ts = now};
}

inline void stamp(transition& t, const alert_state& st) {
  t.since = st.m.since;
  t.alert_since = st.alert_since;
  t.notification_count = st.notification_count;
}

inline const protocol::leaf* find_leaf(std::span<const protocol::leaf> leaves, std::string_view path) {
  for (const auto& l : leaves)
    if (l.path == path) return &l;
  return nullptr;
}

}  // namespace detail

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
      if (auto* l = detail::find_leaf(leaves, parent + st.check_name_.str() + "_output"))
        output = detail::leaf_text(*l);
      if (auto* l = detail::find_leaf(leaves, parent + st.check_name_.str() + "_status"))
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
                              clock::instant now, std::span<const protocol::leaf> leaves,
                              std::string_view leaf_path, std::vector<transition>& out,
                              std::string_view why) {
  const level from = step.from, to = step.to;
  const double v = st.m.last_value;
  if (severity(from) <= 0 && to != level::ok) {
    st.alert_since = now.wall;
    st.alert_since_mono = now.mono;
  }
  if (to != level::ok) attend(st.slot_);
  st.acknowledged = false;
  st.ack_by.clear();
  st.threshold = step.threshold;
  st.reminders = 0;

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

  transition t =
      detail::make_transition(transition_kind::change, h.name, st, from, to, v, step.threshold, now.wall);
  t.text = detail::change_text(h.name, st.metric_path, from, to, v);
  if (!why.empty() && to == level::unknown && std::isnan(v))
    t.text = std::string("UNKNOWN: ") + detail::body_text(h.name, st.metric_path, "no data");
  if (st.external_) t.text = detail::external_text(st.subject_, from, to);
  t.display = render_display(r, st, leaves, leaf_path, !leaves.empty() || (leaf_path.empty() && why.empty()));
  if (notify) {
    st.last_sent = to;
    st.last_sent_ts = now.wall;
    st.last_sent_mono = now.mono;
    if (to != level::ok) ++st.notification_count;
  }
  if (to == level::ok && (notify || st.last_sent == level::ok)) st.notification_count = 0;
  t.notify = notify;
  t.reason = reason;
  detail::stamp(t, st);
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
inline void engine::refresh_maintenance(clock::instant now, std::vector<transition>& out) {
  maint_active_.clear();
  double next = std::numeric_limits<double>::infinity();
  for (const auto& w : rules_->maintenance) {
    double change;
    if (w.active_at(now.wall, change)) maint_active_.push_back(&w);
    next = std::min(next, change);
  }
  maint_next_ = next;
  maint_offset_ = now.wall - now.mono;
  for (auto& [name, hp] : hosts_) {
    host_entry& h = *hp;
    const maintenance_window* was = h.maint;
    h.maint = window_for(name);
    if (!was || h.maint || !h.watch) continue;
    for (std::uint32_t slot : h.states) {
      alert_state& st = states_[slot];
      if (st.m.lvl == st.last_sent) continue;
      transition t = detail::make_transition(transition_kind::resend, h.name, st, st.last_sent, st.m.lvl,
                                             st.m.last_value, st.threshold, now.wall);
      t.text = st.external_
                   ? detail::external_text(st.subject_, st.last_sent, st.m.lvl)
                   : detail::change_text(h.name, st.metric_path, st.last_sent, st.m.lvl, st.m.last_value);
      if (st.rule_) t.display = render_display(*st.rule_, st, {}, {}, false);
      t.reason = "maintenance " + was->name + " ended: " + to_string(st.last_sent) + " was last sent, now " +
                 to_string(st.m.lvl);
      t.notify = true;
      st.last_sent = st.m.lvl;
      st.last_sent_ts = now.wall;
      st.last_sent_mono = now.mono;
      st.reminders = 0;
      if (st.m.lvl == level::ok)
        st.notification_count = 0;
      else
        ++st.notification_count;
      detail::stamp(t, st);
      st.reason = t.reason;
      out.push_back(std::move(t));
    }
  }
}

// threshold_renotify_interval x backoff^n after the n-th reminder, capped at threshold_renotify_max
// (never below the interval itself).
inline double engine::reminder_wait(std::uint32_t sent) const {
  const ruleset& rs = *rules_;
  if (rs.renotify_backoff == 1 || sent == 0) return rs.renotify_interval;
  const double cap = std::max(rs.renotify_max, rs.renotify_interval);
  return std::min(cap, rs.renotify_interval * std::pow(rs.renotify_backoff, static_cast<double>(sent)));
}

inline void engine::tick(clock::instant now, std::vector<transition>& out, double live) {
  live = std::min(live, now.mono);
  if (maintenance_due(now)) refresh_maintenance(now, out);
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
                            live - mono_twin(st.m.last_check_mono, st.m.last_check, now) >= missing;
    const double wait = reminder_wait(st.reminders);
    const bool remind = renotify > 0 && st.m.lvl != level::ok && st.last_sent != level::ok &&
                        !st.acknowledged &&
                        now.mono - mono_twin(st.last_sent_mono, st.last_sent_ts, now) >= wait;
    if (!is_missing && !remind) continue;
    host_entry* h = find_host(st.host);
    if (!h) continue;
    if (is_missing && st.rule_) {
      step_result step;
      step.from = st.m.lvl;
      step.to = level::unknown;
      const double silent = now.mono - st.m.last_check_mono;
      st.m.lvl = level::unknown;
      st.m.since = now.wall;
      st.m.has_pending = false;
      st.m.up_bits = st.m.down_bits = 0;
      st.m.last_value = NAN;
      on_change(*h, st, *st.rule_, step, now, {}, {}, out,
                "missing: no sample for " + detail::seconds_text(silent));
      continue;
    }
    if (!remind || !h->watch || h->maint) continue;
    ++st.notification_count;
    ++st.reminders;
    st.last_sent_ts = now.wall;
    st.last_sent_mono = now.mono;
    transition t = detail::make_transition(transition_kind::reminder, st.host, st, st.m.lvl, st.m.lvl,
                                           st.m.last_value, st.threshold, now.wall);
    std::string value = std::isnan(st.m.last_value) ? std::string("no data") : format_value(st.m.last_value);
    t.text = std::string("REMINDER (") + to_string(st.m.lvl) +
             "): " + (st.external_ ? st.subject_.str() : detail::body_text(st.host, st.metric_path, value)) +
             " (ongoing for " +
             detail::seconds_text(now.mono - mono_twin(st.alert_since_mono, st.alert_since, now)) + ")";
    if (st.rule_) t.display = render_display(*st.rule_, st, {}, {}, false);
    t.reason = std::string("reminder: ") + to_string(st.m.lvl) + " ongoing, renotify every " +
               detail::seconds_text(renotify);
    if (rules_->renotify_backoff != 1)
      t.reason = std::string("reminder ") + std::to_string(st.reminders) + ": " + to_string(st.m.lvl) +
                 " ongoing, waited " + detail::seconds_text(wait) + " (renotify backoff " +
                 format_value(rules_->renotify_backoff) + ", at most " +
                 detail::seconds_text(std::max(rules_->renotify_max, renotify)) + ")";
    t.notify = true;
    detail::stamp(t, st);
    out.push_back(std::move(t));
  }
}

inline result<transition> engine::ack(std::string_view host, std::string_view metric_path,
                                      std::string_view user, double now) {
  host_entry* h = find_host(host);
  const alert_state* found = find(host, metric_path);
  if (!h || !found)
    return make_error("not_found", "no alert " + std::string(metric_path) + " on host " + std::string(host));
  alert_state& st = states_[h->state_of(states_, metric_path)];
  if (st.m.lvl == level::ok)
    return make_error("not_alerting", std::string(metric_path) + " on " + std::string(host) + " is OK");
  st.acknowledged = true;
  st.ack_by = std::string(user);
  st.ack_ts = now;
  transition t = detail::make_transition(transition_kind::acknowledged, st.host, st, st.m.lvl, st.m.lvl,
                                         st.m.last_value, st.threshold, now);
  t.text = std::string("ACKNOWLEDGED (") + to_string(st.m.lvl) +
           "): " + detail::body_text(st.host, st.metric_path, format_value(st.m.last_value)) +
           (user.empty() ? std::string() : " by " + std::string(user));
  t.reason = "acknowledged" + (user.empty() ? std::string() : " by " + std::string(user)) +
             ": reminders stop until the level changes";
  t.notify = false;
  detail::stamp(t, st);
  return t;
}

inline std::string_view engine::maintenance_of(std::string_view host) const {
  if (const host_entry* h = find_host(host); h && h->maint) return h->maint->name;
  if (!find_host(host))
    if (const auto* w = window_for(host)) return w->name;
  return {};
}

}  // namespace heartbeat::alert
