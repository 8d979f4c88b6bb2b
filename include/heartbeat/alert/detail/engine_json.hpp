// The JSON shapes of the alert engine (engine.hpp): alert states for the API
// and the store, transitions for the event bus, the alerts endpoints, and the
// export / restore of every state across restarts. io thread only.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "heartbeat/alert/engine.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::alert {

namespace detail {

inline json::value num_or_null(double v) { return std::isfinite(v) ? json::value(v) : json::value(); }

// The keys an alert state shows alike to the API and the store, in this order.
inline void set_measure(json::value& o, const alert_state& s) {
  o.set("metric_path", s.metric_path);
  o.set("level", to_string(s.m.lvl));
  o.set("since", s.m.since);
  o.set("last_value", num_or_null(s.m.last_value));
  o.set("last_check", s.m.last_check);
}

}  // namespace detail

namespace detail {

// An alert's members as the API shows them (after "hostname" in GET /api/0/alerts), written
// without a DOM; `maintenance` empty is null.
inline void write_alert_members(json::object_writer& e, const alert_state& s, std::string_view maintenance) {
  auto string_or_null = [&](std::string_view k, bool set, std::string_view v) {
    if (set)
      e.string(k, v);
    else
      e.raw(k, [](std::string& x) { x += "null"; });
  };
  e.string("metric_path", s.metric_path)
      .string("level", to_string(s.m.lvl))
      .number("since", s.m.since)
      .number("last_value", s.m.last_value)
      .number("last_check", s.m.last_check)
      .number("notification_count", static_cast<double>(s.notification_count))
      .number("threshold", s.threshold)
      .boolean("acknowledged", s.acknowledged);
  string_or_null("ack_by", s.acknowledged, s.ack_by);
  e.string("reason", s.reason).string("display", s.display);
  string_or_null("maintenance", !maintenance.empty(), maintenance);
}

}  // namespace detail

inline json::value to_json(const alert_state& s, std::string_view maintenance) {
  std::string text;
  {
    json::object_writer e(text);
    detail::write_alert_members(e, s, maintenance);
  }
  auto v = json::parse(text);
  return v ? std::move(*v) : json::value::object();
}

inline json::value to_store_json(const alert_state& s) {
  json::value o = json::value::object();
  o.set("host", s.host);
  detail::set_measure(o, s);
  o.set("alert_since", s.alert_since);
  o.set("notification_count", s.notification_count);
  o.set("last_sent", to_string(s.last_sent));
  o.set("last_sent_ts", s.last_sent_ts);
  o.set("reminders", s.reminders);
  o.set("acknowledged", s.acknowledged);
  o.set("ack_by", s.ack_by.str());
  o.set("ack_ts", s.ack_ts);
  o.set("threshold", detail::num_or_null(s.threshold));
  o.set("reason", s.reason.str());
  o.set("display", s.display.str());
  o.set("check_name", s.check_name_.str());
  json::value f = json::value::object();
  for (const auto& [k, v] : s.fields_) f.set(k[0] == '\x01' ? "$" + k.substr(1) : k, v);
  o.set("fields", std::move(f));
  if (s.external_) {
    o.set("external", true);
    o.set("subject", s.subject_.str());
  }
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
    for (std::uint32_t slot : h->states) v.push_back(&states_[slot]);
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
void engine::write_alerts(std::string& out, std::size_t host_count, Visible&& visible) const {
  // Sorted by level, host and metric on keys copied out of the states: with tens of thousands of
  // alerts, comparing the states where they lie missed the cache on every comparison.
  struct row {
    std::array<char, 24> key;  // the level's rank, then the host name's first 23 bytes (zero-padded)
    const alert_state* s;
  };
  std::vector<row> rows;
  auto shown = [&](const alert_state& s) {
    if constexpr (std::is_invocable_r_v<bool, Visible&, std::string_view, std::string_view>)
      return visible(std::string_view(s.host), std::string_view(s.metric_path));
    else
      return visible(std::string_view(s.host));
  };
  auto rank = [](level l) { return l == level::critical ? 0 : l == level::warning ? 1 : 2; };
  // Every non-OK state is on the attention list: no walk over the (mostly OK) rest.
  for (std::uint32_t slot : attention_) {
    const alert_state& s = states_[slot];
    if (s.host.empty() || s.m.lvl == level::ok || !shown(s)) continue;
    row r{};
    r.key[0] = static_cast<char>(rank(s.m.lvl));
    std::memcpy(r.key.data() + 1, s.host.data(), std::min<std::size_t>(s.host.size(), r.key.size() - 1));
    r.s = &s;
    rows.push_back(r);
  }
  std::sort(rows.begin(), rows.end(), [](const row& a, const row& b) {
    if (int c = std::memcmp(a.key.data(), b.key.data(), a.key.size()); c != 0) return c < 0;
    if (a.s->host != b.s->host) return a.s->host < b.s->host;  // names longer than the key
    return a.s->metric_path < b.s->metric_path;
  });
  std::vector<const alert_state*> v;
  v.reserve(rows.size());
  for (const row& r : rows) v.push_back(r.s);
  rows = {};
  // Hosts carry a maintenance window only while one is active.
  const bool any_window = !maint_active_.empty();
  out.reserve(out.size() + 128 + v.size() * 320);
  std::size_t crit = 0, warn = 0, unk = 0;
  json::object_writer o(out);
  o.raw("alerts", [&](std::string& a) {
    a.push_back('[');
    const host_entry* h = nullptr;
    for (const auto* s : v) {
      if (s != v.front()) a.push_back(',');
      if (any_window && (!h || h->name != s->host)) h = find_host(s->host);  // sorted by host within a level
      json::object_writer e(a);
      e.string("hostname", s->host);
      detail::write_alert_members(e, *s,
                                  h && h->maint ? std::string_view(h->maint->name) : std::string_view());
      if (s->m.lvl == level::critical)
        ++crit;
      else if (s->m.lvl == level::warning)
        ++warn;
      else
        ++unk;
    }
    a.push_back(']');
  });
  o.raw("summary", [&](std::string& a) {
    json::object_writer sum(a);
    sum.number("critical", static_cast<double>(crit))
        .number("warning", static_cast<double>(warn))
        .number("unknown", static_cast<double>(unk))
        .number("total", static_cast<double>(crit + warn + unk));
  });
  o.number("host_count", static_cast<double>(host_count));
}

template <class Visible>
json::value engine::alerts_json(std::size_t host_count, Visible&& visible) const {
  std::string text;
  write_alerts(text, host_count, std::forward<Visible>(visible));
  auto v = json::parse(text);
  return v ? std::move(*v) : json::value::object();
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
    const bool external = e.bool_or("external", false);
    if (external) {
      r = &external_rule();
    } else if (path.rfind("rtt.", 0) == 0) {
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
    st.m.last_check_mono = NAN;  // the monotonic twins are mapped from the wall times at first use
    st.alert_since = e.number_or("alert_since", st.m.since);
    st.alert_since_mono = NAN;
    st.notification_count = static_cast<std::uint32_t>(e.number_or("notification_count", 0));
    st.last_sent = parse_level(e.string_or("last_sent", "OK")).value_or(level::ok);
    st.last_sent_ts = e.number_or("last_sent_ts", 0);
    st.last_sent_mono = NAN;
    st.reminders = static_cast<std::uint32_t>(e.number_or("reminders", 0));
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
    st.external_ = external;
    st.subject_ = external ? e.string_or("subject", "") : std::string();
    if (st.m.lvl != level::ok || r->missing_after > 0) attend(slot);
    if (!external && path.rfind("rtt.", 0) == 0) {
      h.rtt_resolved = true;
      h.rtt = r;
      h.rtt_state = slot;
    }
    ++n;
  }
  return n;
}

}  // namespace heartbeat::alert
