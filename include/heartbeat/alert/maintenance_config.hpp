// Reads the `maintenance` list of the configuration into maintenance windows,
// reporting every problem by key path, and the zone names (`timezone`) that local
// times are written in. Runs at load/reload (any thread), for the alert engine's
// rules (compile_rules) and for the notifier's settings.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/alert/maintenance.hpp"
#include "heartbeat/alert/time_zone.hpp"
#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::alert {

// A `timezone` value at `path`: an IANA name ("Europe/Berlin") or "UTC". Absent: `fallback`.
inline time_zone read_time_zone(const json::value* v, const std::string& path, config::diagnostics& d,
                                const time_zone& fallback = {}) {
  if (!v || v->is_null()) return fallback;
  if (!v->is_string()) {
    d.error(path, std::string("must be an IANA time zone name like Europe/Berlin, not ") +
                      json::to_string(v->type()));
    return fallback;
  }
  auto z = time_zone::locate(v->as_string());
  if (!z) {
    d.error(path, z.err().message);
    return fallback;
  }
  return *z;
}

// The server-wide `timezone` (UTC when unset); errors are reported by compile_rules.
inline time_zone server_time_zone(const json::value& root) {
  config::diagnostics quiet;
  return read_time_zone(root.is_object() ? root.find("timezone") : nullptr, "timezone", quiet);
}

// Appends the valid windows of `list` to `out` (a window with an error is left out);
// unnamed windows are called maintenance-<index>. Days and times of recurring windows, and
// one-off times without Z, are local times of the window's `timezone`, else of `default_tz`.
inline void read_maintenance(const json::value& list, config::diagnostics& d,
                             std::vector<maintenance_window>& out, const time_zone& default_tz = {}) {
  if (!list.is_array()) {
    d.error("maintenance", "must be a list of windows");
    return;
  }
  std::set<std::string> names;
  std::size_t idx = 0;
  for (const auto& node : list.as_array()) {
    std::string path = "maintenance." + std::to_string(idx++);
    config::object_reader r(node, path, d);
    if (!node.is_object()) continue;
    maintenance_window w;
    r.get("name", w.name);
    if (w.name.empty()) w.name = "maintenance-" + std::to_string(idx - 1);
    if (!names.insert(w.name).second) d.error(r.key_path("name"), "duplicate window name \"" + w.name + "\"");
    w.tz = read_time_zone(r.raw("timezone"), r.key_path("timezone"), d, default_tz);
    r.get("hosts", w.hosts);
    for (const auto& h : w.hosts)
      if (h == "*") w.hosts.clear();
    double duration = 0;
    bool has_duration = r.has("duration");
    r.get_duration("duration", duration);
    auto time_of = [&](std::string_view key) -> std::optional<double> {
      const json::value* v = r.raw(key);
      if (!v) return std::nullopt;
      if (v->is_number()) return v->as_number();
      if (v->is_string())
        if (auto t = detail::parse_time_in(v->as_string(), w.tz)) return t;
      d.error(r.key_path(key), w.tz.is_utc() ? "must be a Unix time or a UTC time like 2026-11-23T22:00:00Z"
                                             : "must be a Unix time or a time like 2026-11-23T22:00 (" +
                                                   w.tz.name() + "; with Z: UTC)");
      return std::nullopt;
    };
    bool has_start = r.has("start"), has_cron = r.has("cron"), has_days = r.has("days") || r.has("at");
    int kinds = int(has_start) + int(has_cron) + int(has_days);
    if (kinds != 1) {
      d.error(path, "needs exactly one of start (one-off), days + at (weekly) or cron (recurring)");
      r.known({"start", "end", "cron", "days", "at"});
      r.finish();
      continue;
    }
    bool ok = true;
    if (has_start) {
      w.k = maintenance_window::kind::once;
      auto s = time_of("start");
      std::optional<double> e = r.has("end") ? time_of("end") : std::nullopt;
      if (!s)
        ok = false;
      else if (e)
        w.start = *s, w.end = *e;
      else if (has_duration && duration > 0)
        w.start = *s, w.end = *s + duration;
      else if (!r.has("end"))
        d.error(path, "a one-off window needs end or duration"), ok = false;
      else
        ok = false;
      if (ok && !(w.end > w.start)) d.error(r.key_path("end"), "must be after start"), ok = false;
    } else {
      w.k = maintenance_window::kind::recurring;
      if (!has_duration || duration <= 0)
        d.error(r.key_path("duration"), "a recurring window needs a duration"), ok = false;
      w.duration = duration;
      if (has_cron) {
        std::string expr;
        r.get("cron", expr);
        if (auto e = detail::parse_cron(expr, w)) d.error(r.key_path("cron"), *e), ok = false;
      } else {
        std::vector<std::string> days;
        std::string at;
        r.get("days", days);
        r.get("at", at);
        w.dows = 0;
        if (!r.has("days")) w.dows = 0x7f;
        for (std::size_t i = 0; i < days.size(); ++i) {
          if (days[i] == "daily" || days[i] == "*")
            w.dows = 0x7f;
          else if (auto dw = detail::day_of_week(days[i]))
            w.dows |= static_cast<std::uint8_t>(1u << *dw);
          else
            d.error(r.key_path("days") + "." + std::to_string(i),
                    "unknown day \"" + days[i] + "\" (mon..sun)"),
                ok = false;
        }
        int hh = -1, mm = -1;
        if (at.size() == 5 && at[2] == ':') {
          auto dig = [&](char c) { return c >= '0' && c <= '9'; };
          if (dig(at[0]) && dig(at[1]) && dig(at[3]) && dig(at[4]))
            hh = (at[0] - '0') * 10 + (at[1] - '0'), mm = (at[3] - '0') * 10 + (at[4] - '0');
        }
        if (hh < 0 || hh > 23 || mm < 0 || mm > 59) {
          d.error(r.key_path("at"), w.tz.is_utc()
                                        ? "must be a UTC time of day like \"02:30\""
                                        : "must be a time of day like \"02:30\" (" + w.tz.name() + ")");
          ok = false;
        } else {
          w.minutes = std::uint64_t{1} << mm;
          w.hours = 1u << hh;
          w.doms = 0xfffffffeu;
          w.months = 0x1ffe;
          w.dow_restricted = true;
          w.dom_restricted = false;
        }
      }
    }
    r.known({"end"});
    r.finish();
    if (ok) out.push_back(std::move(w));
  }
}

}  // namespace heartbeat::alert
