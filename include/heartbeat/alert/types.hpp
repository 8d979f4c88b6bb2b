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

#include "heartbeat/core/enum_names.hpp"

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

inline constexpr enum_names<level::unknown> level_names{{"OK", "WARNING", "CRITICAL", "UNKNOWN"}, "UNKNOWN"};

inline const char* to_string(level l) noexcept { return level_names[l]; }
inline std::optional<level> parse_level(std::string_view s) noexcept { return level_names.parse(s); }

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
inline constexpr enum_names<op::nagios> op_names{{">", ">=", "<", "<=", "==", "!=", "nagios"}, "?"};

inline const char* to_string(op o) noexcept { return op_names[o]; }
inline std::optional<op> parse_op(std::string_view s) noexcept { return op_names.parse(s); }

// What kind of event a transition records.
enum class transition_kind : std::uint8_t {
  change,        // the level changed (raised, escalated, de-escalated, recovered, missing data)
  reminder,      // the level is unchanged and still not OK after threshold_renotify_interval
  acknowledged,  // a user acknowledged the alert (no level change, never notified)
  resend,        // a maintenance window ended and the current level differs from the last one sent
};

inline constexpr enum_names<transition_kind::resend> transition_kind_names{
    {"change", "reminder", "acknowledged", "resend"}, "change"};

inline const char* to_string(transition_kind k) noexcept { return transition_kind_names[k]; }

// One event of the engine. The server journals every transition, publishes it as an
// event_kind::alert event (alert::to_json) and hands those with `notify` to the notifier.
// Every member has an initializer, so a designated initializer may name only some.
struct transition {
  transition_kind kind = transition_kind::change;
  std::string host{};
  std::string metric_path{};  // "cpu_monitor.cpu_percent", "disk_monitor.partitions./.percent", "rtt.web01"
  level from = level::ok;
  level to = level::ok;
  double value = NAN;      // the sample that caused it (the last value for reminders; NaN: missing data)
  double threshold = NAN;  // the threshold crossed (NaN: none, e.g. missing data)
  std::string text{};      // docs/ALERTING.md "Texts", e.g. "WARNING: web01 - cpu_monitor.cpu_percent = 85.0"
  // The rule's display template rendered (empty: none); notifications show text + " " + display.
  std::string display{};
  // Why, for the journal: "raised: 95.0 > 90.0", "...; suppressed: maintenance nightly".
  std::string reason{};
  bool notify = false;     // hand it to the notifier
  double ts = 0;           // the `now` of the evaluation
  double since = 0;        // when the current level began
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
