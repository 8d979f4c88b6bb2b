// Maintenance windows: one-off ([start, end)) or recurring (weekly days + time,
// or a five-field cron expression, each with a duration), per host or host glob,
// in UTC. Pure time arithmetic, computed only when a window starts or ends; the
// engine (io thread) caches the result so evaluation costs one comparison.
#pragma once

#include <cstdint>
#include <ctime>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  // recurring: a start at every minute matching these sets (cron semantics), lasting `duration`.
  std::uint64_t minutes = 0;  // bit m: minute m (0..59)
  std::uint32_t hours = 0;    // bit h (0..23)
  std::uint32_t doms = 0;     // bit d (1..31)
  std::uint16_t months = 0;   // bit m (1..12)
  std::uint8_t dows = 0;      // bit d (0 = Sunday .. 6)
  bool dom_restricted = false, dow_restricted = false;
  double duration = 0;

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
    // The latest start at or before t within `duration`.
    std::int64_t minute = static_cast<std::int64_t>(t) / 60 * 60;
    std::int64_t back = static_cast<std::int64_t>(duration / 60) + 1;
    for (std::int64_t i = 0; i <= back; ++i) {
      std::int64_t s = minute - i * 60;
      if (static_cast<double>(s) + duration <= t) break;
      if (matches(s)) {
        // Overlapping occurrences extend the window.
        double e = static_cast<double>(s) + duration;
        double c;
        double next = next_start(static_cast<double>(s), c) ? c : inf;
        while (next < e) {
          e = next + duration;
          double c2;
          next = next_start(next, c2) ? c2 : inf;
        }
        change = e;
        return true;
      }
    }
    double n;
    change = next_start(t, n) ? n : inf;
    return false;
  }

  bool matches(std::int64_t unix_minute) const noexcept {
    std::time_t tt = static_cast<std::time_t>(unix_minute);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    return matches(tm);
  }
  bool matches(const std::tm& tm) const noexcept {
    if (!((minutes >> tm.tm_min) & 1) || !((hours >> tm.tm_hour) & 1) || !((months >> (tm.tm_mon + 1)) & 1))
      return false;
    return day_matches(tm);
  }
  bool day_matches(const std::tm& tm) const noexcept {
    bool dom = (doms >> tm.tm_mday) & 1, dow = (dows >> tm.tm_wday) & 1;
    if (dom_restricted && dow_restricted) return dom || dow;  // cron: either
    return dom && dow;
  }

  // The first start strictly after t (searching at most ~4 years ahead).
  bool next_start(double t, double& out) const {
    std::int64_t s = static_cast<std::int64_t>(t) / 60 * 60 + 60;
    std::int64_t limit = s + 4LL * 366 * 86400;
    while (s < limit) {
      std::time_t tt = static_cast<std::time_t>(s);
      std::tm tm{};
      ::gmtime_r(&tt, &tm);
      if (!((months >> (tm.tm_mon + 1)) & 1) || !day_matches(tm)) {
        s += 86400 - (tm.tm_hour * 3600 + tm.tm_min * 60);  // next midnight
        continue;
      }
      if (!((hours >> tm.tm_hour) & 1)) {
        s += 3600 - tm.tm_min * 60;  // next hour
        continue;
      }
      if ((minutes >> tm.tm_min) & 1) {
        out = static_cast<double>(s);
        return true;
      }
      s += 60;
    }
    return false;
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

// "2026-11-23T22:00:00Z", "2026-11-23 22:00", a Unix time number as text: UTC seconds.
inline std::optional<double> parse_utc_time(std::string_view s) {
  int v[6] = {0, 0, 0, 0, 0, 0};
  const char seps[] = {'-', '-', 'T', ':', ':'};
  std::size_t i = 0;
  for (int f = 0; f < 6; ++f) {
    std::size_t start = i;
    int n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') n = n * 10 + (s[i++] - '0');
    if (i == start) return std::nullopt;
    v[f] = n;
    if (i == s.size() || s[i] == 'Z') {
      if (f < 4) return std::nullopt;  // at least minutes
      break;
    }
    if (f == 5) return std::nullopt;
    char sep = s[i];
    if (!(sep == seps[f] || (f == 2 && sep == ' '))) return std::nullopt;
    ++i;
  }
  if (i < s.size() && s[i] == 'Z') ++i;
  if (i != s.size()) return std::nullopt;
  if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = v[0] - 1900;
  tm.tm_mon = v[1] - 1;
  tm.tm_mday = v[2];
  tm.tm_hour = v[3];
  tm.tm_min = v[4];
  tm.tm_sec = v[5];
  return static_cast<double>(::timegm(&tm));
}

}  // namespace detail
}  // namespace heartbeat::alert
