// IANA time zones for rules written in local time (maintenance windows, quiet
// hours, duty rotas): Unix time to local calendar fields and back. The calendar
// arithmetic is the standard library's; the zones' rules come from a zone
// database that a program opts into by including alert/tz_database.hpp (the
// system's tzdata through Howard Hinnant's date library, the reference of C++20's
// <chrono> zones, which g++ 12's library lacks). Without it only UTC is known, so
// the alert engine stays standard-library only. A time_zone is an immutable
// handle; any thread.
#pragma once

#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
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

// The rules of one zone, as a zone database provides them.
class zone_rules {
 public:
  virtual ~zone_rules() = default;
  // Seconds to add to UTC to get local time at `unix_seconds`.
  virtual long long utc_offset(long long unix_seconds) const = 0;
  // Unix time of a local wall-clock time given as seconds since 1970-01-01 00:00 local. A local
  // time skipped by a spring-forward change maps to the moment the clocks jumped; one that occurs
  // twice at a fall-back change maps to its first occurrence.
  virtual long long from_local(long long local_seconds) const = 0;
};

// Finds a zone by IANA name; set by the zone database (alert/tz_database.hpp).
using zone_locator_fn = std::function<result<std::shared_ptr<const zone_rules>>(std::string_view name)>;
inline zone_locator_fn& zone_locator() {
  static zone_locator_fn f;
  return f;
}

class time_zone {
 public:
  // UTC.
  time_zone() = default;

  // "UTC" (or empty) or an IANA name such as "Europe/Berlin"; an error names an unknown zone.
  static result<time_zone> locate(std::string_view name) {
    time_zone z;
    if (name.empty() || name == "UTC" || name == "Etc/UTC") return z;
    if (!zone_locator())
      return make_error("timezone", "unknown time zone \"" + std::string(name) +
                                        "\": this program knows only UTC (no zone database)");
    auto rules = zone_locator()(name);
    if (!rules) return rules.err();
    z.zone_ = std::move(*rules);
    z.name_ = std::string(name);
    return z;
  }

  const std::string& name() const noexcept { return name_; }
  bool is_utc() const noexcept { return zone_ == nullptr; }

  // Seconds to add to UTC to get local time at `unix_seconds`.
  double utc_offset(double unix_seconds) const {
    if (!zone_) return 0;
    return static_cast<double>(zone_->utc_offset(static_cast<long long>(std::floor(unix_seconds))));
  }

  local_fields to_local(double unix_seconds) const {
    using namespace std::chrono;
    const double local = unix_seconds + utc_offset(unix_seconds);
    const sys_seconds secs{seconds{static_cast<long long>(std::floor(local))}};
    const sys_days day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> tod{secs - day};
    local_fields f;
    f.year = static_cast<int>(ymd.year());
    f.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    f.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
    f.hour = static_cast<int>(tod.hours().count());
    f.minute = static_cast<int>(tod.minutes().count());
    f.second = static_cast<int>(tod.seconds().count());
    f.weekday = static_cast<int>(weekday{day}.c_encoding());
    return f;
  }

  // Local calendar time to Unix time (skipped and repeated local times as zone_rules says).
  double from_local(int year, int month, int day, int hour, int minute, double second = 0) const {
    using namespace std::chrono;
    const sys_days d{std::chrono::year{year} / month / day};
    const auto whole = static_cast<long long>(std::floor(second));
    const double frac = second - static_cast<double>(whole);
    const long long local = (d + hours{hour} + minutes{minute} + seconds{whole}).time_since_epoch().count();
    if (!zone_) return static_cast<double>(local) + frac;
    return static_cast<double>(zone_->from_local(local)) + frac;
  }

 private:
  std::shared_ptr<const zone_rules> zone_;  // null: UTC
  std::string name_ = "UTC";
};

}  // namespace heartbeat::alert
