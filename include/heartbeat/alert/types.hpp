// The vocabulary of threshold alerting: levels, operators, the per-metric
// evaluator state and the transitions the engine emits. Plain data, no clock;
// used on the io thread (engine) and by whoever consumes transitions.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace heartbeat::alert {

class engine;

// A caller-held shortcut to the engine's entry for one host (hbd keeps one in
// each registry host): evaluations through it skip the name lookup. Opaque; the
// engine re-resolves it after forget_host().
class host_ref {
  friend class engine;
  const engine* owner_ = nullptr;
  void* entry_ = nullptr;
  std::uint64_t generation_ = 0;
};

enum class level : std::uint8_t { ok, warning, critical, unknown };

inline const char* to_string(level l) noexcept {
  switch (l) {
    case level::ok: return "OK";
    case level::warning: return "WARNING";
    case level::critical: return "CRITICAL";
    case level::unknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

inline std::optional<level> parse_level(std::string_view s) noexcept {
  if (s == "OK") return level::ok;
  if (s == "WARNING") return level::warning;
  if (s == "CRITICAL") return level::critical;
  if (s == "UNKNOWN") return level::unknown;
  return std::nullopt;
}

// Severity order for escalation decisions: OK < WARNING < CRITICAL; UNKNOWN is
// outside the order (changes to and from it always apply at once).
inline int severity(level l) noexcept {
  switch (l) {
    case level::ok: return 0;
    case level::warning: return 1;
    case level::critical: return 2;
    case level::unknown: return -1;
  }
  return -1;
}

// The comparison operators of docs/ALERTING.md plus `nagios` (exit code 0..3 -> level).
enum class op : std::uint8_t { gt, ge, lt, le, eq, ne, nagios };

// The operator's symbol as written in the configuration and shown as {op_symbol}.
inline const char* to_string(op o) noexcept {
  switch (o) {
    case op::gt: return ">";
    case op::ge: return ">=";
    case op::lt: return "<";
    case op::le: return "<=";
    case op::eq: return "==";
    case op::ne: return "!=";
    case op::nagios: return "nagios";
  }
  return "?";
}

inline std::optional<op> parse_op(std::string_view s) noexcept {
  if (s == ">") return op::gt;
  if (s == ">=") return op::ge;
  if (s == "<") return op::lt;
  if (s == "<=") return op::le;
  if (s == "==") return op::eq;
  if (s == "!=") return op::ne;
  if (s == "nagios") return op::nagios;
  return std::nullopt;
}

// What kind of event a transition records.
enum class transition_kind : std::uint8_t {
  change,        // the level changed (raised, escalated, de-escalated, recovered, missing data)
  reminder,      // the level is unchanged and still not OK after threshold_renotify_interval
  acknowledged,  // a user acknowledged the alert (no level change, never notified)
  resend,        // a maintenance window ended and the current level differs from the last one sent
};

inline const char* to_string(transition_kind k) noexcept {
  switch (k) {
    case transition_kind::change: return "change";
    case transition_kind::reminder: return "reminder";
    case transition_kind::acknowledged: return "acknowledged";
    case transition_kind::resend: return "resend";
  }
  return "change";
}

// One event of the engine. The server journals every transition, publishes it as an
// event_kind::alert event (alert::to_json) and hands those with `notify` to the notifier.
struct transition {
  transition_kind kind = transition_kind::change;
  std::string host;
  std::string metric_path;  // "cpu_monitor.cpu_percent", "disk_monitor.partitions./.percent", "rtt.web01"
  level from = level::ok;
  level to = level::ok;
  double value = NAN;      // the sample that caused it (the last value for reminders; NaN: missing data)
  double threshold = NAN;  // the threshold crossed (NaN: none, e.g. missing data)
  std::string text;        // docs/ALERTING.md "Texts", e.g. "WARNING: web01 - cpu_monitor.cpu_percent = 85.0"
  std::string
      display;  // the rule's display template rendered (empty: none); notifications show text + " " + display
  std::string reason;   // why, for the journal: "raised: 95.0 > 90.0", "...; suppressed: maintenance nightly"
  bool notify = false;  // hand it to the notifier
  double ts = 0;        // the `now` of the evaluation
  double since = 0;     // when the current level began
  double alert_since = 0;  // when the metric left OK (for "ongoing for")
  std::uint32_t notification_count = 0;
};

// Numbers as the alert texts print them: integers with one decimal ("85.0"), others
// in short form ("125.3"). Same rule as notify::format_value.
inline std::string format_value(double v) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.1f", v);
  else
    std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace heartbeat::alert
