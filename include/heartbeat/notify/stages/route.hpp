// Stage 4, routing: who receives a notification, on which channels. With no
// users every enabled notifier gets everything; with users, each user with a
// role on the host (admins: every host; a partition: admins only) gets it on
// their notification_channels, unless their severity filter or quiet hours hold
// it back. A notification that names its recipients (an active check's) goes to
// those users only. Hosts with an escalation ladder are routed by
// stages/escalate.hpp instead, to users through route_to_user(). Pipeline stage,
// worker thread.
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

// One user's route: their usable channels, held back by their severity filter or quiet hours.
inline route route_to_user(const notification& n, const user_settings& u,
                           const std::vector<std::string>& enabled, double now) {
  route r{u.name, {}, {}};
  for (const auto& c : u.channels)
    for (const auto& e : enabled)
      if (e == c) r.channels.push_back(c);
  if (n.severity < u.min_level)
    r.suppressed = reason::severity;
  else if (u.quiet.covers(now) && n.severity < u.quiet.passes)
    r.suppressed = reason::quiet_hours;
  return r;
}

// `enabled` lists the notifiers that may be used (config order, pushsrv applied).
inline std::vector<route> route_notification(const notification& n, const directory& dir,
                                             const std::vector<std::string>& enabled, double now) {
  std::vector<route> out;
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
    const bool concerned = n.kind == kind::partition ? u.admin
                           : n.recipients.empty()    ? dir.concerns(u, n.host)
                                                     : named(u.name);
    if (!concerned) continue;
    route r = route_to_user(n, u, enabled, now);
    if (r.channels.empty()) continue;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace heartbeat::notify::stages
