// IANA time zones for rules written in local time (maintenance windows, quiet
// hours, duty rotas): Unix time to local calendar fields and back, with the
// system's tzdata through Howard Hinnant's date library (the reference of C++20's
// <chrono> zones, which g++ 12's library lacks). A time_zone is an immutable
// handle; any thread.
#pragma once

#include <date/tz.h>

#include <chrono>
#include <cmath>
#include <string>
#include <string_view>

#include "heartbeat/core/result.hpp"

namespace heartbeat::alert {

// One local moment, broken down.
struct local_fields {
  int year = 1970, month = 1, day = 1;  // month 1..12, day 1..31
  int hour = 0, minute = 0, second = 0;
  int weekday = 4;  // 0 = Sunday .. 6 = Saturday
};

class time_zone {
 public:
  // UTC.
  time_zone() = default;

  // "UTC" (or empty) or an IANA name such as "Europe/Berlin"; an error names an unknown zone.
  static result<time_zone> locate(std::string_view name) {
    time_zone z;
    if (name.empty() || name == "UTC" || name == "Etc/UTC") return z;
    try {
      z.zone_ = date::locate_zone(std::string(name));
    } catch (const std::exception&) {
      return make_error("timezone",
                        "unknown time zone \"" + std::string(name) + "\" (an IANA name, e.g. Europe/Berlin)");
    }
    z.name_ = std::string(name);
    return z;
  }

  const std::string& name() const noexcept { return name_; }
  bool is_utc() const noexcept { return zone_ == nullptr; }

  // Seconds to add to UTC to get local time at `unix_seconds`.
  double utc_offset(double unix_seconds) const {
    if (!zone_) return 0;
    return static_cast<double>(zone_->get_info(to_sys(unix_seconds)).offset.count());
  }

  local_fields to_local(double unix_seconds) const {
    using namespace std::chrono;
    const double local = unix_seconds + utc_offset(unix_seconds);
    const auto secs = date::sys_seconds{seconds{static_cast<long long>(std::floor(local))}};
    const auto day = date::floor<date::days>(secs);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss<seconds> tod{secs - day};
    local_fields f;
    f.year = static_cast<int>(ymd.year());
    f.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    f.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
    f.hour = static_cast<int>(tod.hours().count());
    f.minute = static_cast<int>(tod.minutes().count());
    f.second = static_cast<int>(tod.seconds().count());
    f.weekday = static_cast<int>(date::weekday{day}.c_encoding());
    return f;
  }

  // Local calendar time to Unix time. A local time skipped by a spring-forward change maps to the
  // moment the clocks jumped to (02:30 on that day in Europe/Berlin is 03:00 CEST); one that occurs
  // twice at a fall-back change maps to its first occurrence.
  double from_local(int year, int month, int day, int hour, int minute, double second = 0) const {
    using namespace std::chrono;
    const auto d = date::local_days{date::year{year} / month / day};
    const auto whole = static_cast<long long>(std::floor(second));
    const double frac = second - static_cast<double>(whole);
    const date::local_seconds lt = d + hours{hour} + minutes{minute} + seconds{whole};
    if (!zone_) return static_cast<double>(lt.time_since_epoch().count()) + frac;
    const date::local_info info = zone_->get_info(lt);
    date::sys_seconds st;
    switch (info.result) {
      case date::local_info::unique:
      case date::local_info::ambiguous:
        st = date::sys_seconds{lt.time_since_epoch()} - info.first.offset;
        break;
      case date::local_info::nonexistent: st = info.second.begin; break;
    }
    return static_cast<double>(st.time_since_epoch().count()) + frac;
  }

 private:
  static date::sys_seconds to_sys(double unix_seconds) {
    return date::sys_seconds{std::chrono::seconds{static_cast<long long>(std::floor(unix_seconds))}};
  }

  const date::time_zone* zone_ = nullptr;  // null: UTC
  std::string name_ = "UTC";
};

}  // namespace heartbeat::alert
