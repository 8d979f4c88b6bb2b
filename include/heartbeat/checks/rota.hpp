// Duty rotas (Cabot's duty officers): users take shifts in turn from a start given in local time
// of the rota's time zone; shifts of whole days hand over at the same local time of day across
// DST changes, others every `shift` seconds; overrides put someone else on duty for a while.
// Before the start the turn runs backwards, so a rota always has someone on duty. Immutable after
// loading; pure (every question takes the time).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "heartbeat/alert/tz_database.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::checks {

struct rota_override {
  std::string user;
  double from = 0, to = 0;  // Unix time, [from, to)
};

// "2026-12-07T09:00:00" (or with a space, seconds optional) in `tz`; a number is Unix time.
inline std::optional<double> parse_local_time(const json::value& v, const alert::time_zone& tz) {
  if (v.is_number()) return v.as_number();
  if (!v.is_string()) return std::nullopt;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char sep = 0, extra = 0;
  const std::string& t = v.as_string();
  int n = std::sscanf(t.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%c", &y, &mo, &d, &sep, &h, &mi, &s, &extra);
  if (n == 6) s = 0;
  if ((n != 6 && n != 7) || (sep != 'T' && sep != ' ') || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
      mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0)
    return std::nullopt;
  if (!std::chrono::year_month_day{std::chrono::year{y} / mo / d}.ok()) return std::nullopt;
  return tz.from_local(y, mo, d, h, mi, s);
}

struct rota {
  std::string name;
  std::vector<std::string> users;
  double shift = 7 * 86400;  // seconds
  double start = 0;          // Unix time the first shift starts
  alert::time_zone tz;
  alert::local_fields start_local;  // `start` in local time
  std::vector<rota_override> overrides;

  // Whole-day shifts follow the local calendar (09:00 stays 09:00 across DST changes).
  bool calendar() const { return shift >= 86400 && std::fmod(shift, 86400) == 0; }

  // When shift `k` starts (k may be negative: before `start`).
  double shift_start(long long k) const {
    if (!calendar()) return start + static_cast<double>(k) * shift;
    const long long step = static_cast<long long>(shift / 86400);
    const auto day =
        std::chrono::sys_days{std::chrono::year{start_local.year} / start_local.month / start_local.day} +
        std::chrono::days{k * step};
    const std::chrono::year_month_day ymd{day};
    return tz.from_local(static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
                         static_cast<int>(static_cast<unsigned>(ymd.day())), start_local.hour,
                         start_local.minute, start_local.second);
  }

  // The shift containing `t`.
  long long shift_index(double t) const {
    long long k = static_cast<long long>(std::floor((t - start) / shift));
    while (shift_start(k + 1) <= t) ++k;
    while (shift_start(k) > t) --k;
    return k;
  }

  std::string on_duty(double t) const {
    if (users.empty()) return {};
    for (auto it = overrides.rbegin(); it != overrides.rend(); ++it)
      if (t >= it->from && t < it->to) return it->user;
    const long long n = static_cast<long long>(users.size());
    return users[static_cast<std::size_t>(((shift_index(t) % n) + n) % n)];
  }

  // The next time someone else comes on duty, and who.
  std::optional<std::pair<std::string, double>> next_change(double t) const {
    if (users.empty()) return std::nullopt;
    const std::string now_on = on_duty(t);
    std::vector<double> at;
    long long k = shift_index(t);
    long long until = k + static_cast<long long>(users.size()) + 1;
    for (const auto& o : overrides) {
      if (o.from > t) at.push_back(o.from);
      if (o.to > t) {
        at.push_back(o.to);
        until = std::max(until, shift_index(o.to) + static_cast<long long>(users.size()) + 1);
      }
    }
    until = std::min(until, k + 10000);
    for (long long i = k + 1; i <= until; ++i) at.push_back(shift_start(i));
    std::sort(at.begin(), at.end());
    for (double c : at) {
      std::string who = on_duty(c);
      if (who != now_on) return std::make_pair(std::move(who), c);
    }
    return std::nullopt;
  }
};

}  // namespace heartbeat::checks
