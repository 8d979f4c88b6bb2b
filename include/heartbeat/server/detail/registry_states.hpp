// The host state machine (UNKNOWN, UP, LATE, DOWN, STOPPED per connection and
// host) as time moves it: the monitor's tick, each host's deadlines, and the
// changes of state with their messages and host events. Every deadline is
// monotonic time (connection::heard, started_mono_, command_record::expires_mono);
// wall time only stamps what is shown. Bodies of host_registry
// (host_registry.hpp); io thread only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>

#include "heartbeat/server/host_registry.hpp"

namespace heartbeat::server {

inline void host_registry::tick(clock::instant now) {
  const double live = liveness_.advance(now.mono);
  wheel_.run(live, [&](host& h) { check_host(h, now, live); });
  if (order_.pending()) return;  // hosts are being added: no re-sort per tick for the sweep
  const auto& all = hosts();
  if (all.empty()) return;
  std::size_t n = std::min(all.size(), std::max<std::size_t>(64, all.size() / 240));
  for (std::size_t i = 0; i < n; ++i) {
    if (sweep_pos_ >= all.size()) sweep_pos_ = 0;
    check_host(*all[sweep_pos_++], now, live);
  }
}

inline void host_registry::check_host(host& h, clock::instant now, double live) {
  double next = std::numeric_limits<double>::infinity();  // monotonic
  bool any_present = false;
  for (auto& c : h.conns) {
    if (!c.present) continue;
    any_present = true;
    double since = std::max(c.heard, started_mono_);  // after a restart, hosts get a full period
    double elapsed = live - since;
    host_state want = c.state;
    if (elapsed > c.interval + grace_)
      want = host_state::down;
    else if (elapsed > c.interval + late_slack(c.interval))
      want = host_state::late;
    else
      want = host_state::up;
    // Only an HTB brings a connection (back) up; the monitor only moves it down.
    if (want != c.state && want != host_state::up &&
        !(c.state == host_state::down && want == host_state::late)) {
      c.state = want;
      c.state_since = now.wall;
      host_state before = h.state;
      update_host_state(h, now);
      if (h.state == before) publish_host(h, now, nullptr);
    }
    if (c.state == host_state::up) next = std::min(next, since + c.interval + late_slack(c.interval));
    if (c.state != host_state::down) next = std::min(next, since + c.interval + grace_);
  }
  if (!any_present && h.state == host_state::unknown && h.configured) {
    double deadline = started_mono_ + (h.interval > 0 ? h.interval : cfg_interval_) + grace_;
    if (live > deadline)
      set_host_state(h, host_state::down, now, h.watch, "no heartbeat since the server started");
    else
      next = std::min(next, deadline);
  }
  for (auto& c : h.commands) {
    if (!c.pending()) continue;
    if (c.expires_mono <= now.mono) {
      c.state = command_state::expired;
      c.done_at = now.wall;
      add_message(now.wall, h.name, std::string(c.upgrade ? "upgrade " : "command ") + c.id + " expired",
                  "command");
      publish_command(h, c, now.wall);
    } else {
      next = std::min(next, c.expires_mono);
    }
  }
  if (!h.commands.empty()) trim_commands(h);
  if (next != std::numeric_limits<double>::infinity()) schedule(h, next);
}

inline void host_registry::update_host_state(host& h, clock::instant now) {
  if (h.state == host_state::stopped) return;
  bool any = false, up = false, late = false;
  for (const auto& c : h.conns) {
    if (!c.present) continue;
    any = true;
    up = up || c.state == host_state::up;
    late = late || c.state == host_state::late;
  }
  if (!any) return;
  host_state want = up ? host_state::up : late ? host_state::late : host_state::down;
  if (want == h.state) return;
  host_state before = h.state;
  bool notify = false;
  std::string text;
  if (want == host_state::down) {
    notify = h.watch;
    text = "DOWN: " + h.name + " (no heartbeat for " +
           std::to_string(static_cast<long>(h.interval + grace_)) + " s)";
  } else if (want == host_state::up && before == host_state::down) {
    double lasted = now.mono - h.down_mono;
    notify = h.watch && lasted >= short_down;
    text = "UP: " + h.name + " (was down for " + std::to_string(static_cast<long>(lasted)) + " s)";
  } else if (want == host_state::up && before == host_state::unknown) {
    text = "UP: " + h.name + " (first heartbeat)";
  } else if (want == host_state::late) {
    text = "LATE: " + h.name + " (heartbeat overdue)";
  } else {
    text = std::string(to_string(want)) + ": " + h.name;
  }
  set_host_state(h, want, now, notify, text);
}

inline void host_registry::set_host_state(host& h, host_state to, clock::instant now, bool notify,
                                          std::string text) {
  host_state from = h.state;
  if (from == to) return;
  const double from_since = h.state_since;
  touch(h);
  h.state = to;
  h.state_since = now.wall;
  if (to == host_state::down) {
    h.down_since = now.wall;
    h.down_mono = now.mono;
  }
  if (to == host_state::down || (to == host_state::up && from == host_state::down) ||
      (to == host_state::up && from == host_state::unknown) || to == host_state::stopped)
    add_message(now.wall, h.name, text, "state");
  json::value t = json::value::object(
      {{"from", to_string(from)}, {"to", to_string(to)}, {"notify", notify}, {"text", std::move(text)}});
  // How long the host was away, for the recovery's text: the notifier keeps no state per host.
  if (to == host_state::up || to == host_state::late) {
    if (from == host_state::down)
      t.set("down_for", now.mono - h.down_mono);
    else if (from == host_state::stopped)
      t.set("down_for", std::max(0.0, now.wall - from_since));
  }
  publish_host(h, now, &t);
}

}  // namespace heartbeat::server
