// Turns the registry's events into notifications: host state changes (DOWN,
// UP after DOWN or STOPPED with the duration, STOPPED) and alert transitions
// (the alert engine's text, display templates already applied). Lives on the
// io thread next to the event bus; keeps the last state of each host.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>

#include "heartbeat/bus/events.hpp"
#include "heartbeat/notify/notification.hpp"
#include "heartbeat/notify/settings.hpp"

namespace heartbeat::notify {

class event_translator {
 public:
  // A DOWN (or STOPPED) shorter than this sends no recovery (4 seconds, docs/NOTIFICATIONS.md).
  explicit event_translator(double min_outage = 4) : min_outage_(min_outage) {}

  std::optional<notification> translate(const bus::event& e) {
    switch (e.kind) {
      case bus::event_kind::host: return from_host(e);
      case bus::event_kind::alert: return from_alert(e);
      case bus::event_kind::dropped: hosts_.erase(e.host); return std::nullopt;
      case bus::event_kind::plugin:
      case bus::event_kind::message:
      case bus::event_kind::command:
      case bus::event_kind::reboot: return std::nullopt;
    }
    return std::nullopt;
  }

 private:
  static double time_of(const json::value* v) {
    double t = 0;
    if (v) detail::parse_time_point(*v, t);
    return t;
  }

  std::optional<notification> from_host(const bus::event& e) {
    const json::value* st = e.data.find("state");
    if (!st || !st->is_string()) return std::nullopt;
    const std::string& state = st->as_string();
    std::string host = e.host.empty() ? e.data.string_or("name", "") : e.host;
    // The registry's host events (its host_json, which has "watch") mark real state changes with a
    // "transition" {from, to, down_for}; its other events only refresh data. They say all that is
    // needed, so nothing is kept for their hosts (a million of them). Without that format (other
    // producers, tests) the last state seen here decides.
    if (e.data.contains("watch")) {
      const json::value* tr = e.data.find("transition");
      if (!tr || !tr->is_object()) return std::nullopt;
      track prev{tr->string_or("from", "UNKNOWN"), e.ts};
      if (const json::value* df = tr->find("down_for"); df && df->is_number())
        prev.since = e.ts - df->as_number();
      if (prev.state == state) return std::nullopt;
      return host_change(std::move(host), e, prev, state, false);
    }
    auto [it, first] = hosts_.try_emplace(host, track{"UNKNOWN", e.ts});
    track prev = it->second;
    if (!first && prev.state == state) return std::nullopt;
    it->second = {state, e.ts};
    return host_change(std::move(host), e, prev, state, first);
  }

  struct track {
    std::string state;
    double since;
  };

  std::optional<notification> host_change(std::string host, const bus::event& e, const track& prev,
                                          const std::string& state, bool first) {
    notification n;
    n.host = host;
    n.ts = e.ts;
    n.from = prev.state;
    n.to = state;
    if (state == "DOWN" && prev.state != "DOWN") {
      n.kind = kind::host_down;
      n.level = n.severity = level::critical;
      double last_seen = time_of(e.data.find("last_seen"));
      n.duration = last_seen > 0 ? std::max(0.0, e.ts - last_seen) : 0;
      n.text = down_text(host, n.duration);
      return n;
    }
    if (state == "STOPPED" && (prev.state == "UP" || prev.state == "LATE")) {
      n.kind = kind::host_stopped;
      n.level = n.severity = level::warning;
      n.text = stopped_text(host);
      return n;
    }
    if ((state == "UP" || state == "LATE") && (prev.state == "DOWN" || prev.state == "STOPPED") && !first) {
      n.duration = e.ts - prev.since;
      if (n.duration < min_outage_) return std::nullopt;
      n.kind = kind::host_up;
      n.level = level::ok;
      n.severity = prev.state == "DOWN" ? level::critical : level::warning;
      n.text = up_text(host, prev.state, n.duration);
      return n;
    }
    return std::nullopt;
  }

  static std::optional<notification> from_alert(const bus::event& e) {
    const json::value& d = e.data;
    if (const json::value* nt = d.find("notify"); nt && nt->is_bool() && !nt->as_bool()) return std::nullopt;
    notification n;
    n.host = !e.host.empty() ? e.host : d.string_or("hostname", d.string_or("host", ""));
    n.metric_path = d.string_or("metric_path", "");
    n.from = d.string_or("from", "OK");
    n.to = d.string_or("to", d.string_or("level", "WARNING"));
    n.ts = e.ts != 0 ? e.ts : d.number_or("ts", 0);
    if (const json::value* v = d.find("value"); v && v->is_number())
      n.value = v->as_number();
    else if (const json::value* lv = d.find("last_value"); lv && lv->is_number())
      n.value = lv->as_number();
    if (const json::value* t = d.find("threshold"); t && t->is_number()) n.threshold = t->as_number();
    level from = level::ok, to = level::warning;
    parse_level(n.from, from);
    parse_level(n.to, to);
    n.level = to;
    n.severity = std::max(from, to);
    n.text = d.string_or("text", "");
    n.escalation = d.string_or("escalation", "");
    if (const json::value* r = d.find("recipients"); r && r->is_array())
      for (const auto& u : r->as_array())
        if (u.is_string()) n.recipients.push_back(u.as_string());
    // The rule's display template, rendered by the alert engine, follows the text.
    if (std::string display = d.string_or("display", ""); !display.empty() && !n.text.empty())
      n.text += " " + display;
    std::string k = d.string_or("kind", "");
    if (k == "acknowledged") return std::nullopt;
    bool reminder =
        k == "reminder" || d.string_or("reason", "") == "reminder" || n.text.rfind("REMINDER", 0) == 0;
    if (reminder) {
      n.kind = kind::reminder;
      n.severity = to;
      n.duration = n.ts - d.number_or("alert_since", d.number_or("since", n.ts));
      if (n.text.empty()) n.text = reminder_text(n.host, n.metric_path, n.to, n.value, n.duration);
    } else {
      n.kind = kind::alert;
      if (n.text.empty()) n.text = alert_text(n.host, n.metric_path, n.from, n.to, n.value);
    }
    return n;
  }

  double min_outage_;
  std::unordered_map<std::string, track> hosts_;
};

}  // namespace heartbeat::notify
