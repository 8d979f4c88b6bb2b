// The pure evaluation step: one rule, one metric's evaluator state, one value,
// the time as an argument. No clock, no allocation, no I/O; the engine (io
// thread) calls it for every numeric leaf and decides about notifications.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

#include "heartbeat/alert/rules.hpp"
#include "heartbeat/alert/types.hpp"
#include "heartbeat/core/clock.hpp"

namespace heartbeat::alert {

// The evaluator's view of one metric. Wall times are shown and stored; the durations that
// decide something (missing data, `for`) are measured on the monotonic clock.
struct metric_state {
  level lvl = level::ok;
  // A change waiting for `for` / `recover_after`: the level asked for, since when, how many samples.
  level pending = level::ok;
  bool has_pending = false;
  std::uint32_t pending_samples = 0;
  double since = 0;  // when `lvl` began (wall)
  double last_value = NAN;
  double last_check = 0;       // time of the last sample (wall)
  double last_check_mono = 0;  // the same on the monotonic clock (NaN after a restore: mapped at first use)
  double pending_since = 0;    // monotonic
  // N-of-M holds: bit i is the sample i steps back, set when it asked to raise (up) or to
  // de-escalate / recover (down) from the current level. Cleared when the level changes.
  std::uint32_t up_bits = 0, down_bits = 0;
};

struct step_result {
  bool changed = false;
  level from = level::ok;
  level to = level::ok;
  double threshold = NAN;  // the threshold that decided the new level (NaN: none)
};

// True when `v` is beyond threshold `t` under operator `o` (the raising direction).
inline bool beyond(op o, double v, double t) noexcept {
  switch (o) {
    case op::gt: return v > t;
    case op::ge: return v >= t;
    case op::lt: return v < t;
    case op::le: return v <= t;
    case op::eq: return v == t;
    case op::ne: return v != t;
    case op::nagios: return false;
  }
  return false;
}

// The level a value asks for, given the current level (hysteresis: a level already
// reached is kept while the value stays beyond its recovery threshold).
inline level target_level(const rule& r, level current, double v, double& threshold) noexcept {
  if (r.oper == op::nagios) {
    threshold = NAN;
    if (v == 0) return level::ok;
    if (v == 1) return threshold = 1, level::warning;
    if (v == 2) return threshold = 2, level::critical;
    return threshold = 3, level::unknown;  // 3, negative (killed by a signal) or anything else
  }
  if (std::isnan(v)) return threshold = NAN, level::unknown;
  int cur = severity(current);
  if (r.has_critical) {
    double t = cur >= 2 ? r.critical_recover : r.critical;
    if (beyond(r.oper, v, t)) return threshold = r.critical, level::critical;
  }
  if (r.has_warning) {
    double t = cur >= 1 ? r.warning_recover : r.warning;
    if (beyond(r.oper, v, t)) return threshold = r.warning, level::warning;
  }
  // Recovery: report the threshold of the level left.
  threshold = current == level::critical && r.has_critical ? r.critical
              : current == level::warning && r.has_warning ? r.warning
                                                           : NAN;
  return level::ok;
}

// One sample. Updates `s` and says whether the level changed.
inline step_result evaluate(const rule& r, metric_state& s, double value, clock::instant now) noexcept {
  step_result res;
  res.from = s.lvl;
  s.last_value = value;
  s.last_check = now.wall;
  s.last_check_mono = now.mono;
  double threshold = NAN;
  level target = target_level(r, s.lvl, value, threshold);
  res.threshold = threshold;
  if (r.windowed) {
    const bool moves = target != s.lvl && target != level::unknown && s.lvl != level::unknown;
    const bool up = moves && severity(target) > severity(s.lvl);
    s.up_bits = (s.up_bits << 1) | (up ? 1u : 0u);
    s.down_bits = (s.down_bits << 1) | (moves && !up ? 1u : 0u);
  }
  if (target == s.lvl) {
    s.has_pending = false;
    res.to = s.lvl;
    return res;
  }
  // UNKNOWN in either direction applies at once; otherwise `for` (up) / `recover_after` (down).
  if (target != level::unknown && s.lvl != level::unknown) {
    bool up = severity(target) > severity(s.lvl);
    const hold& h = up ? r.raise_hold : r.recover_hold;
    if (h.windowed()) {
      // `samples` of the last `of` samples asked for this direction (this one included).
      const std::uint32_t mask = h.of >= hold::max_of ? ~0u : (1u << h.of) - 1;
      if (static_cast<std::uint32_t>(std::popcount((up ? s.up_bits : s.down_bits) & mask)) < h.samples) {
        res.to = s.lvl;
        return res;
      }
    } else if (h.active()) {
      bool same_direction = s.has_pending && (severity(s.pending) > severity(s.lvl)) == up;
      if (!same_direction) {
        s.has_pending = true;
        s.pending_since = now.mono;
        s.pending_samples = 0;
      }
      s.pending = target;
      ++s.pending_samples;
      bool held = (h.samples > 1 && s.pending_samples >= h.samples) ||
                  (h.seconds > 0 && now.mono - s.pending_since >= h.seconds);
      if (!held) {
        res.to = s.lvl;
        return res;
      }
    }
  }
  s.has_pending = false;
  s.up_bits = s.down_bits = 0;
  s.lvl = target;
  s.since = now.wall;
  res.changed = true;
  res.to = target;
  return res;
}

}  // namespace heartbeat::alert
