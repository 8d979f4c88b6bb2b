// What hbd knows about one check between runs: passing, failing or not yet known, its level,
// consecutive failures against `retries`, the last run and a short history for charts; and the
// record the store keeps so that it survives a restart. io thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <string>

#include "heartbeat/alert/types.hpp"
#include "heartbeat/checks/check.hpp"
#include "heartbeat/checks/result.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::checks {

enum class check_status : std::uint8_t { unknown, passing, failing };

inline const char* to_string(check_status s) noexcept {
  switch (s) {
    case check_status::unknown: return "unknown";
    case check_status::passing: return "passing";
    case check_status::failing: return "failing";
  }
  return "unknown";
}

struct history_entry {
  double checked_at = 0;
  double response_ms = NAN;
  checks::outcome outcome = checks::outcome::fail;
  std::string error;
};

struct check_state {
  static constexpr std::size_t history_max = 60;

  check_status status = check_status::unknown;
  alert::level level = alert::level::ok;  // while failing: WARNING or CRITICAL
  unsigned failures = 0;                  // consecutive runs that did not pass
  double last_run = 0;                    // Unix time of the last run's start
  double last_change = 0;                 // when `status` or `level` last changed
  std::string error;                      // the last run's error ("" when it passed)
  std::string failing_error;              // the error of the run that made it fail (kept while failing)
  double response_ms = NAN;
  json::value metrics = json::value::object();  // the last run's type metrics
  std::deque<history_entry> history;            // oldest first

  // Takes one run's result under the check's `retries` and `level`; true when status or level changed.
  bool apply(const check_result& r, const check_def& def) {
    last_run = r.checked_at;
    response_ms = r.response_ms;
    error = r.succeeded() ? std::string() : r.error;
    metrics = r.metrics;
    history.push_back({r.checked_at, r.response_ms, r.outcome, error});
    while (history.size() > history_max) history.pop_front();
    check_status next = status;
    alert::level lvl = level;
    if (r.succeeded()) {
      failures = 0;
      next = check_status::passing;
      lvl = alert::level::ok;
    } else {
      ++failures;
      if (failures > def.retries) {
        next = check_status::failing;
        lvl = r.outcome == outcome::warn ? alert::level::warning : def.level;
        failing_error = r.error;
      } else if (status == check_status::unknown) {
        next = check_status::unknown;  // tolerated failures before any verdict
      }
    }
    const bool changed = next != status || lvl != level;
    if (changed) last_change = r.checked_at;
    status = next;
    level = lvl;
    if (status != check_status::failing) failing_error.clear();
    return changed;
  }

  // The store's record (history as [checked_at, response_ms|null, "pass"|"warn"|"fail", error]).
  json::value to_store_json() const {
    json::value o = json::value::object();
    o.set("status", to_string(status));
    o.set("level", alert::to_string(level));
    o.set("failures", failures);
    o.set("last_run", last_run);
    o.set("last_change", last_change);
    o.set("error", error);
    o.set("failing_error", failing_error);
    o.set("response_ms", std::isfinite(response_ms) ? json::value(response_ms) : json::value());
    o.set("metrics", metrics);
    json::value h = json::value::array();
    for (const auto& e : history) {
      json::value row = json::value::array();
      row.push_back(e.checked_at);
      row.push_back(std::isfinite(e.response_ms) ? json::value(std::round(e.response_ms * 1000) / 1000)
                                                 : json::value());
      row.push_back(to_string(e.outcome));
      row.push_back(e.error);
      h.push_back(std::move(row));
    }
    o.set("history", std::move(h));
    return o;
  }

  bool restore(const json::value& o) {
    if (!o.is_object()) return false;
    const std::string st = o.string_or("status", "unknown");
    status = st == "passing"   ? check_status::passing
             : st == "failing" ? check_status::failing
                               : check_status::unknown;
    level = alert::parse_level(o.string_or("level", "OK")).value_or(alert::level::ok);
    failures = static_cast<unsigned>(o.number_or("failures", 0));
    last_run = o.number_or("last_run", 0);
    last_change = o.number_or("last_change", 0);
    error = o.string_or("error", "");
    failing_error = o.string_or("failing_error", "");
    const json::value* rm = o.find("response_ms");
    response_ms = rm && rm->is_number() ? rm->as_number() : NAN;
    if (const json::value* m = o.find("metrics"); m && m->is_object()) metrics = *m;
    history.clear();
    if (const json::value* h = o.find("history"); h && h->is_array())
      for (const auto& row : h->as_array()) {
        if (!row.is_array() || row.size() < 4) continue;
        const auto& a = row.as_array();
        history_entry e;
        e.checked_at = a[0].is_number() ? a[0].as_number() : 0;
        e.response_ms = a[1].is_number() ? a[1].as_number() : NAN;
        const std::string oc = a[2].is_string() ? a[2].as_string() : "fail";
        e.outcome = oc == "pass" ? outcome::pass : oc == "warn" ? outcome::warn : outcome::fail;
        e.error = a[3].is_string() ? a[3].as_string() : "";
        history.push_back(std::move(e));
      }
    while (history.size() > history_max) history.pop_front();
    return true;
  }
};

inline json::value to_json(const history_entry& e) {
  json::value o = json::value::object();
  o.set("succeeded", e.outcome == outcome::pass);
  o.set("error", e.outcome == outcome::pass ? json::value() : json::value(e.error));
  o.set("response_ms",
        std::isfinite(e.response_ms) ? json::value(std::round(e.response_ms * 1000) / 1000) : json::value());
  o.set("checked_at", e.checked_at);
  return o;
}

}  // namespace heartbeat::checks
