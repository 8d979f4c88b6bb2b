// What the notifier delivers: a notification (built on the io thread from host
// and alert events, consumed by the notifier's worker thread), its levels and
// kinds, their texts (docs/NOTIFICATIONS.md), and the journal record of what became of it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/alert/types.hpp"
#include "heartbeat/core/enum_names.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::notify {

enum class kind : std::uint8_t {
  host_down,
  host_up,
  host_stopped,
  alert,
  reminder,
  channel_failure,
  digest,
  partition,  // PARTITION / PARTITION OVER: many hosts went silent at once (notify/partition.hpp)
};

inline constexpr enum_names<kind::partition> kind_names{
    {"host_down", "host_up", "host_stopped", "alert", "reminder", "channel_failure", "digest", "partition"},
    "unknown"};

inline const char* to_string(kind k) noexcept { return kind_names[k]; }

// Alert levels in the order of severity; the severity filter and quiet hours compare them.
enum class level : std::uint8_t { ok, unknown, warning, critical };

inline constexpr enum_names<level::critical> level_names{{"OK", "UNKNOWN", "WARNING", "CRITICAL"}, "UNKNOWN"};

inline const char* to_string(level l) noexcept { return level_names[l]; }

inline bool parse_level(std::string_view s, level& out) noexcept {
  auto l = level_names.parse(s);
  if (l) out = *l;
  return l.has_value();
}

struct notification {
  std::string host;
  notify::kind kind = kind::alert;
  notify::level level = level::warning;     // the new level (OK for recoveries and UP)
  notify::level severity = level::warning;  // what the filters compare: the worse of old and new level
  std::string text;         // the complete first line, e.g. "WARNING: web01 - cpu_monitor.cpu_percent = 85.0"
  std::string metric_path;  // alerts and reminders
  double value = NAN;       // the metric value, when there is one
  double threshold = NAN;
  std::string from;        // previous level or host state
  std::string to;          // new level or host state
  double duration = 0;     // DOWN/STOPPED duration for host_up; ongoing time for reminders
  double ts = 0;           // Unix time of the underlying event
  std::string escalation;  // a ladder named by the event itself (a service of the active checks)
  // When not empty, the users told instead of those with a role on the host (an active check's
  // service users and on-duty person, docs/CHECKS.md).
  std::vector<std::string> recipients;
  // Stable id (the outbox's with several nodes): X-Heartbeat-Id on HTTP channels, the mail's
  // Message-ID, so that a receiver can drop the copy a failover may send again.
  std::string id;
};

// Numbers as the notification texts print them, by the alert texts' rule ("85.0", "520.1", "12.5").
using alert::format_value;

inline std::string format_seconds(double s) {
  return std::to_string(static_cast<long long>(std::llround(s))) + "s";
}

// "WARNING: host - path = value", "RECOVERED: host - path = value (WARNING -> OK)".
inline std::string alert_text(std::string_view host, std::string_view path, std::string_view from,
                              std::string_view to, double value) {
  std::string body = std::string(host) + " - " + std::string(path) + " = " + format_value(value);
  if (to == "OK") return "RECOVERED: " + body + " (" + std::string(from) + " -> OK)";
  return std::string(to) + ": " + body;
}

// "REMINDER (CRITICAL): host - path = value (ongoing for 3600s)".
inline std::string reminder_text(std::string_view host, std::string_view path, std::string_view lvl,
                                 double value, double ongoing) {
  return "REMINDER (" + std::string(lvl) + "): " + std::string(host) + " - " + std::string(path) + " = " +
         format_value(value) + " (ongoing for " + format_seconds(ongoing) + ")";
}

// "DOWN: host - no heartbeat for 75s".
inline std::string down_text(std::string_view host, double silent_for) {
  std::string t = "DOWN: " + std::string(host);
  if (silent_for > 0) t += " - no heartbeat for " + format_seconds(silent_for);
  return t;
}

// "UP: host - was DOWN for 75s".
inline std::string up_text(std::string_view host, std::string_view was, double duration) {
  return "UP: " + std::string(host) + " - was " + std::string(was) + " for " + format_seconds(duration);
}

inline std::string stopped_text(std::string_view host) {
  return "STOPPED: " + std::string(host) + " - the client announced its shutdown";
}

// ISO-8601 UTC, for mail bodies and webhook payloads.
inline std::string iso_time(double ts) {
  std::time_t t = static_cast<std::time_t>(ts);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// What became of a notification (journaled through the server's callback).
// escalated: a ladder's step reached new recipients; partition / partition_over: the partition
// detector declared many hosts cut off, or them back (the notification itself follows as usual).
enum class outcome : std::uint8_t {
  sent,
  retried,
  failed,
  fell_back,
  suppressed,
  dropped,
  escalated,
  partition,
  partition_over
};

inline constexpr enum_names<outcome::partition_over> outcome_names{
    {"sent", "retried", "failed", "fell_back", "suppressed", "dropped", "escalated", "partition",
     "partition_over"},
    "unknown"};

inline const char* to_string(outcome o) noexcept { return outcome_names[o]; }

// Stable suppression and drop reasons (journal "reason" and metric labels).
namespace reason {
inline constexpr std::string_view watch = "watch=false";
inline constexpr std::string_view maintenance = "maintenance";
inline constexpr std::string_view dedup = "dedup";
inline constexpr std::string_view rate_limited = "rate-limited";
inline constexpr std::string_view quiet_hours = "quiet hours";
inline constexpr std::string_view severity = "severity";
inline constexpr std::string_view no_recipient = "no recipient";
inline constexpr std::string_view queue_full = "queue full";
inline constexpr std::string_view partition = "partition";  // a host's DOWN/UP inside a declared partition
inline constexpr std::string_view ladder_later = "escalation: first step later";
}  // namespace reason

// A reason as a Prometheus label value: "watch=false" -> "watch_false", "quiet hours" -> "quiet_hours".
inline std::string metric_label(std::string_view why) {
  std::string out(why);
  for (auto& c : out)
    if (c == '=' || c == ' ' || c == '-') c = '_';
  return out;
}

struct journal_record {
  double ts = 0;  // when it happened (not when the event happened)
  notify::outcome outcome = outcome::sent;
  std::string reason;   // suppressions, drops and fallbacks
  std::string channel;  // notifier name, empty before routing
  std::string user;     // empty before routing or with no users configured
  std::string host;
  notify::kind kind = kind::alert;
  notify::level level = level::warning;
  std::string text;
  std::string error;        // failed / retried: what the channel said
  int attempt = 0;          // 1 for the first try
  std::string metric_path;  // alerts and reminders
  std::string id;           // the notification's id

  json::value to_json() const {
    json::value v = json::value::object();
    v.set("type", "notification");
    v.set("time", ts);
    v.set("result", to_string(outcome));
    if (!reason.empty()) v.set("reason", reason);
    if (!channel.empty()) v.set("channel", channel);
    if (!user.empty()) v.set("user", user);
    v.set("host", host);
    v.set("kind", to_string(kind));
    v.set("level", to_string(level));
    v.set("text", text);
    if (!error.empty()) v.set("error", error);
    if (attempt > 0) v.set("attempt", attempt);
    if (!metric_path.empty()) v.set("metric_path", metric_path);
    if (!id.empty()) v.set("id", id);
    return v;
  }
};

using journal_fn = std::function<void(const journal_record&)>;

}  // namespace heartbeat::notify
