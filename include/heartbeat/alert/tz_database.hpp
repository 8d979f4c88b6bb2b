// The zone database of alert::time_zone: the system's tzdata through Howard
// Hinnant's date library (libdate-tz). Including this header makes every IANA
// name known to time_zone::locate(); hbd's configuration, the notifier's settings
// and the active checks include it. Any thread.
#pragma once

#include <date/tz.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "heartbeat/alert/time_zone.hpp"

namespace heartbeat::alert {

namespace detail {

class date_zone final : public zone_rules {
 public:
  explicit date_zone(const date::time_zone* z) : z_(z) {}

  long long utc_offset(long long unix_seconds) const override {
    return z_->get_info(date::sys_seconds{std::chrono::seconds{unix_seconds}}).offset.count();
  }

  long long from_local(long long local_seconds) const override {
    const date::local_seconds lt{std::chrono::seconds{local_seconds}};
    const date::local_info info = z_->get_info(lt);
    date::sys_seconds st;
    switch (info.result) {
      case date::local_info::unique:
      case date::local_info::ambiguous:
        st = date::sys_seconds{lt.time_since_epoch()} - info.first.offset;
        break;
      case date::local_info::nonexistent: st = info.second.begin; break;
    }
    return st.time_since_epoch().count();
  }

 private:
  const date::time_zone* z_;
};

inline result<std::shared_ptr<const zone_rules>> locate_date_zone(std::string_view name) {
  try {
    return std::shared_ptr<const zone_rules>(
        std::make_shared<date_zone>(date::locate_zone(std::string(name))));
  } catch (const std::exception&) {
    return make_error("timezone",
                      "unknown time zone \"" + std::string(name) + "\" (an IANA name, e.g. Europe/Berlin)");
  }
}

// Installs the database before main() in every program that includes this header.
inline const bool tz_database_installed = (zone_locator() = locate_date_zone, true);

}  // namespace detail

}  // namespace heartbeat::alert
