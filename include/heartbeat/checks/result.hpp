// What one run of an active check yields (docs/CHECKS.md "Results"): passed, warned or failed,
// the error in words a person understands, the response time, when it ran, and the type's
// metrics. Plain data, built by a run on the io thread and kept by hbd's checks part.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "heartbeat/core/json.hpp"

namespace heartbeat::checks {

// A run passes, warns (a tls certificate within warn_days, a Nagios WARNING) or fails.
enum class outcome : std::uint8_t { pass, warn, fail };

inline const char* to_string(outcome o) noexcept {
  switch (o) {
    case outcome::pass: return "pass";
    case outcome::warn: return "warn";
    case outcome::fail: return "fail";
  }
  return "fail";
}

struct check_result {
  checks::outcome outcome = checks::outcome::fail;
  std::string error;         // why it did not pass: "HTTP 503 from https://…"; empty when it passed
  double response_ms = NAN;  // time to the answer (NaN: none)
  double checked_at = 0;     // Unix time the run started
  // The type's metrics: status_code, days_left, loss_percent, rtt_ms, answers, perfdata.
  json::value metrics = json::value::object();

  bool succeeded() const noexcept { return outcome == checks::outcome::pass; }

  static check_result failed(std::string why) {
    check_result r;
    r.error = std::move(why);
    return r;
  }
};

// {"succeeded","error","response_ms","checked_at", ...metrics}: a run as the API shows it.
inline json::value to_json(const check_result& r) {
  json::value o = json::value::object();
  o.set("succeeded", r.succeeded());
  o.set("error", r.succeeded() ? json::value() : json::value(r.error));
  o.set("response_ms",
        std::isfinite(r.response_ms) ? json::value(std::round(r.response_ms * 1000) / 1000) : json::value());
  o.set("checked_at", r.checked_at);
  if (r.metrics.is_object())
    for (const auto& [k, v] : r.metrics.as_object()) o.set(k, v);
  return o;
}

// "5 s", "0.5 s": a timeout as the error texts say it.
inline std::string seconds_words(double s) {
  json::value v(std::round(s * 1000) / 1000);
  return v.dump() + " s";
}

// An OS or library message as a clause: "Connection refused" -> "connection refused".
inline std::string lower_first(std::string_view s) {
  std::string out(s);
  if (out.size() > 1 && out[0] >= 'A' && out[0] <= 'Z' && !(out[1] >= 'A' && out[1] <= 'Z'))
    out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

}  // namespace heartbeat::checks
