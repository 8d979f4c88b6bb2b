// Stage 4, routing: who receives a notification, on which channels. With no
// users every enabled notifier gets everything; with users, each user with a
// role on the host (admins: every host) gets it on their notification_channels,
// unless their severity filter or quiet hours hold it back. A notification that
// names its recipients (an active check's) goes to those users only. Pipeline
// stage, worker thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/notify/directory.hpp"

namespace heartbeat::notify::stages {

struct route {
  std::string user;                   // empty: no users configured (everyone)
  std::vector<std::string> channels;  // notifier names
  std::string_view suppressed;        // empty, or reason::severity / reason::quiet_hours
};

// `enabled` lists the notifiers that may be used (config order, pushsrv applied).
inline std::vector<route> route_notification(const notification& n, const directory& dir,
                                             const std::vector<std::string>& enabled, double now) {
  std::vector<route> out;
  auto usable = [&](const std::string& c) {
    for (const auto& e : enabled)
      if (e == c) return true;
    return false;
  };
  if (!dir.has_users()) {
    if (!enabled.empty()) out.push_back({"", enabled, {}});
    return out;
  }
  auto named = [&](const std::string& user) {
    for (const auto& r : n.recipients)
      if (r == user) return true;
    return false;
  };
  for (const auto& u : dir.users()) {
    if (n.recipients.empty() ? !dir.concerns(u, n.host) : !named(u.name)) continue;
    route r{u.name, {}, {}};
    for (const auto& c : u.channels)
      if (usable(c)) r.channels.push_back(c);
    if (r.channels.empty()) continue;
    if (n.severity < u.min_level)
      r.suppressed = reason::severity;
    else if (u.quiet.covers(now) && n.severity < u.quiet.passes)
      r.suppressed = reason::quiet_hours;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace heartbeat::notify::stages
