// Maintenance windows: one-off ([start, end)) or recurring (weekly days + time,
// or a five-field cron expression, each with a duration), per host or host glob.
// Recurring windows are written in local time of their `timezone` (UTC by default)
// and follow its daylight-saving changes. Pure time arithmetic, computed only when a
// window starts or ends; the engine (io thread) caches the result so evaluation costs
// one comparison.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/alert/time_zone.hpp"

namespace heartbeat::alert {

// '*' any run, '?' one character; everything else literal.
inline bool glob_match(std::string_view pat, std::string_view s) noexcept {
  std::size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
      ++p;
      ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

inline bool is_glob(std::string_view s) noexcept { return s.find_first_of("*?") != std::string_view::npos; }

struct maintenance_window {
  enum class kind : std::uint8_t { once, recurring };
  std::string name;
  std::vector<std::string> hosts;  // names or globs; empty: every host
  kind k = kind::once;
  double start = 0, end = 0;  // once: [start, end) in Unix seconds
  // recurring: a start at every local minute matching these sets (cron semantics), lasting
  // `duration` seconds of elapsed time.
  std::uint64_t minutes = 0;  // bit m: minute m (0..59)
  std::uint32_t hours = 0;    // bit h (0..23)
  std::uint32_t doms = 0;     // bit d (1..31)
  std::uint16_t months = 0;   // bit m (1..12)
  std::uint8_t dows = 0;      // bit d (0 = Sunday .. 6)
  bool dom_restricted = false, dow_restricted = false;
  double duration = 0;
  // The zone the days and times are written in. A start that a spring-forward change skips
  // begins when the clocks jump (02:30 -> 03:00); one that a fall-back change repeats begins
  // at its first occurrence only.
  time_zone tz;

  bool applies_to(std::string_view host) const noexcept {
    if (hosts.empty()) return true;
    for (const auto& h : hosts)
      if (glob_match(h, host)) return true;
    return false;
  }

  // Whether the window covers `t`; sets `change` to the next time this answer changes
  // (the end of the current occurrence, or the next start; +inf when never).
  bool active_at(double t, double& change) const {
    constexpr double inf = std::numeric_limits<double>::infinity();
    if (k == kind::once) {
      if (t < start) return change = start, false;
      if (t < end) return change = end, true;
      return change = inf, false;
    }
    // The latest start at or before t; it covers t when it ends after t (starts are in order,
    // so no earlier one can).
    double s = 0;
    if (latest_start(t, s) && s + duration > t) {
      // Overlapping occurrences extend the window.
      double e = s + duration, next = 0;
      if (!next_start(s, next)) next = inf;
      while (next < e) {
        e = next + duration;
        if (!next_start(e - duration, next)) next = inf;
      }
      change = e;
      return true;
    }
    double n;
    change = next_start(t, n) ? n : inf;
    return false;
  }

  // Whether the local calendar day (month 1..12, day 1..31, weekday 0 = Sunday) has starts.
  bool day_matches(int month, int mday, int wday) const noexcept {
    if (!((months >> month) & 1)) return false;
    bool dom = (doms >> mday) & 1, dow = (dows >> wday) & 1;
    if (dom_restricted && dow_restricted) return dom || dow;  // cron: either
    return dom && dow;
  }

  // The first start strictly after t (searching at most ~4 years ahead).
  bool next_start(double t, double& out) const {
    const std::int64_t first = local_day(t) - 1;  // a skipped time of the day before maps forward
    for (std::int64_t day = first; day < first + 4 * 366 + 2; ++day) {
      std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
      if (!matches_day(day, ymd)) continue;
      for (int h = 0; h < 24; ++h) {
        if (!((hours >> h) & 1)) continue;
        for (int m = 0; m < 60; ++m) {
          if (!((minutes >> m) & 1)) continue;
          double s = start_of(ymd, h, m);
          if (s > t) return out = s, true;
        }
      }
    }
    return false;
  }

  // The last start at or before t that may still cover it (not earlier than t - duration).
  bool latest_start(double t, double& out) const {
    const std::int64_t last = local_day(t);  // starts of later local days are after t
    const std::int64_t first = local_day(t - duration) - 1;
    for (std::int64_t day = last; day >= first; --day) {
      std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
      if (!matches_day(day, ymd)) continue;
      for (int h = 23; h >= 0; --h) {
        if (!((hours >> h) & 1)) continue;
        for (int m = 59; m >= 0; --m) {
          if (!((minutes >> m) & 1)) continue;
          double s = start_of(ymd, h, m);
          if (s <= t) return out = s, true;
        }
      }
    }
    return false;
  }

 private:
  // Days since 1970-01-01 of t's local calendar date.
  std::int64_t local_day(double t) const {
    const double local = t + tz.utc_offset(t);
    return static_cast<std::int64_t>(std::floor(local / 86400));
  }
  bool matches_day(std::int64_t day, const std::chrono::year_month_day& ymd) const {
    const int wday =
        static_cast<int>(std::chrono::weekday{std::chrono::sys_days{std::chrono::days{day}}}.c_encoding());
    return day_matches(static_cast<int>(static_cast<unsigned>(ymd.month())),
                       static_cast<int>(static_cast<unsigned>(ymd.day())), wday);
  }
  double start_of(const std::chrono::year_month_day& ymd, int h, int m) const {
    return tz.from_local(static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
                         static_cast<int>(static_cast<unsigned>(ymd.day())), h, m);
  }
};

// The first window covering `host` at `now`, or null. Pure and read-only: safe on any thread
// holding the ruleset (e.g. the notifier's worker, for host DOWN/UP events).
inline const maintenance_window* window_covering(const std::vector<maintenance_window>& windows,
                                                 std::string_view host, double now) {
  for (const auto& w : windows) {
    double change;
    if (w.applies_to(host) && w.active_at(now, change)) return &w;
  }
  return nullptr;
}

namespace detail {

inline std::optional<int> day_of_week(std::string_view s) noexcept {
  static const char* const names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  std::string low;
  for (char c : s) low.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  for (int i = 0; i < 7; ++i)
    if (low == names[i] || (low.size() > 3 && low.substr(0, 3) == names[i])) return i;
  return std::nullopt;
}

// One cron field ("*", "*/15", "1-5", "1,3,5", "mon-fri" for day of week) into a bit set.
inline bool parse_cron_field(std::string_view f, int lo, int hi, bool dow, std::uint64_t& bits,
                             bool& restricted) {
  bits = 0;
  restricted = !(f == "*" || f == "?");
  std::size_t pos = 0;
  while (pos <= f.size()) {
    std::size_t comma = f.find(',', pos);
    std::string_view part =
        f.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string_view::npos) {
      step = 0;
      for (char c : part.substr(slash + 1)) {
        if (c < '0' || c > '9') return false;
        step = step * 10 + (c - '0');
      }
      if (step <= 0) return false;
      part = part.substr(0, slash);
    }
    auto num = [&](std::string_view s, int& out) {
      if (s.empty()) return false;
      if (dow)
        if (auto d = day_of_week(s)) return out = *d, true;
      out = 0;
      for (char c : s) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + (c - '0');
      }
      if (dow && out == 7) out = 0;
      return true;
    };
    int a = lo, b = hi;
    if (part != "*") {
      if (auto dash = part.find('-'); dash != std::string_view::npos) {
        if (!num(part.substr(0, dash), a) || !num(part.substr(dash + 1), b)) return false;
      } else {
        if (!num(part, a)) return false;
        b = step > 1 ? hi : a;
      }
    }
    if (a < lo || b > hi || a > b) {
      if (!(dow && b == 0 && a > 0)) return false;
      b = 6;  // "fri-sun"
      bits |= 1;
    }
    for (int v = a; v <= b; v += step) bits |= std::uint64_t{1} << v;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return bits != 0;
}

// "m h dom mon dow"; errors name the bad field.
inline std::optional<std::string> parse_cron(std::string_view expr, maintenance_window& w) {
  std::vector<std::string_view> f;
  std::size_t i = 0;
  while (i < expr.size()) {
    while (i < expr.size() && expr[i] == ' ') ++i;
    std::size_t j = i;
    while (j < expr.size() && expr[j] != ' ') ++j;
    if (j > i) f.push_back(expr.substr(i, j - i));
    i = j;
  }
  if (f.size() != 5) return "must have 5 fields: minute hour day-of-month month day-of-week";
  std::uint64_t b;
  bool r;
  if (!parse_cron_field(f[0], 0, 59, false, b, r)) return "bad minute field '" + std::string(f[0]) + "'";
  w.minutes = b;
  if (!parse_cron_field(f[1], 0, 23, false, b, r)) return "bad hour field '" + std::string(f[1]) + "'";
  w.hours = static_cast<std::uint32_t>(b);
  if (!parse_cron_field(f[2], 1, 31, false, b, r))
    return "bad day-of-month field '" + std::string(f[2]) + "'";
  w.doms = static_cast<std::uint32_t>(b);
  w.dom_restricted = r;
  if (!parse_cron_field(f[3], 1, 12, false, b, r)) return "bad month field '" + std::string(f[3]) + "'";
  w.months = static_cast<std::uint16_t>(b);
  if (!parse_cron_field(f[4], 0, 6, true, b, r)) return "bad day-of-week field '" + std::string(f[4]) + "'";
  w.dows = static_cast<std::uint8_t>(b);
  w.dow_restricted = r;
  return std::nullopt;
}

// "2026-11-23T22:00:00Z" or "2026-11-23 22:00[:00]": the calendar fields (year, month, day, hour,
// minute, second) and whether the text ends in Z (UTC).
inline bool parse_time_fields(std::string_view s, int (&v)[6], bool& zulu) {
  for (int& x : v) x = 0;
  zulu = false;
  const char seps[] = {'-', '-', 'T', ':', ':'};
  std::size_t i = 0;
  for (int f = 0; f < 6; ++f) {
    std::size_t start = i;
    int n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') n = n * 10 + (s[i++] - '0');
    if (i == start) return false;
    v[f] = n;
    if (i == s.size() || s[i] == 'Z') {
      if (f < 4) return false;  // at least minutes
      break;
    }
    if (f == 5) return false;
    char sep = s[i];
    if (!(sep == seps[f] || (f == 2 && sep == ' '))) return false;
    ++i;
  }
  if (i < s.size() && s[i] == 'Z') {
    zulu = true;
    ++i;
  }
  if (i != s.size()) return false;
  return !(v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60);
}

// "2026-11-23T22:00:00Z", "2026-11-23 22:00": UTC seconds.
inline std::optional<double> parse_utc_time(std::string_view s) {
  int v[6];
  bool zulu = false;
  if (!parse_time_fields(s, v, zulu)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = v[0] - 1900;
  tm.tm_mon = v[1] - 1;
  tm.tm_mday = v[2];
  tm.tm_hour = v[3];
  tm.tm_min = v[4];
  tm.tm_sec = v[5];
  return static_cast<double>(::timegm(&tm));
}

// The same, but a time without Z is local time in `tz` (UTC when `tz` is).
inline std::optional<double> parse_time_in(std::string_view s, const time_zone& tz) {
  int v[6];
  bool zulu = false;
  if (!parse_time_fields(s, v, zulu)) return std::nullopt;
  if (zulu || tz.is_utc()) return parse_utc_time(s);
  return tz.from_local(v[0], v[1], v[2], v[3], v[4], v[5]);
}

}  // namespace detail
}  // namespace heartbeat::alert
