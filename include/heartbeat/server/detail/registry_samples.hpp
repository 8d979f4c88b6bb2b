// PLG and MSG as the registry applies them once admission let them in: the
// plugin's history ring and alert hook, the messages ring. Bodies of
// host_registry (host_registry.hpp); io thread only.
#pragma once

#include <string>
#include <utility>

#include "heartbeat/server/host_registry.hpp"

namespace heartbeat::server {

inline apply_result host_registry::on_plugin(const protocol::plugin_msg& m, const source&, clock::instant t) {
  const double now = t.wall;
  apply_result res;
  host* hp = admit(m.name, t, res.refused);
  if (!hp) return res;
  host& h = *hp;
  auto it = h.plugins.find(m.plugin);
  if (it == h.plugins.end()) {
    if (!gate_.admit_plugin(h.plugins.size())) {
      res.refused = protocol::reject::plugin_limit;
      gate_.note(res.refused, h.name, m.plugin, t.mono);
      return res;
    }
    it = h.plugins.emplace(m.plugin, plugin_data{}).first;
  }
  h.last_seen = now;
  if (h.first_seen == 0) h.first_seen = now;
  h.plg_since_start = true;
  mark_dirty(h);
  plugin_data& p = it->second;
  if (m.interval) p.interval = *m.interval;
  double ts = m.ts ? *m.ts : now;
  push_sample(p, ts, m.data_json);
  if (hooks_.plugin_sample) hooks_.plugin_sample(h, m, t);
  if (events_.wants(bus::event_kind::plugin)) {
    json::value data;
    if (auto parsed = json::parse(m.data_json)) data = std::move(*parsed);
    publish(bus::event_kind::plugin, now, h.name,
            json::value::object(
                {{"host", h.name}, {"plugin", m.plugin}, {"data", std::move(data)}, {"timestamp", ts}}));
  }
  res.h = &h;
  return res;
}

inline apply_result host_registry::on_message(const protocol::message_msg& m, const source&,
                                              clock::instant t) {
  const double now = t.wall;
  apply_result res;
  host* hp = admit(m.name, t, res.refused);
  if (!hp) return res;
  host& h = *hp;
  touch(h);
  h.last_seen = now;
  if (h.first_seen == 0) h.first_seen = now;
  add_message(now, h.name, m.msg, protocol::to_string(m.event));
  if (m.event == protocol::msg_event::shutdown && h.state != host_state::stopped)
    set_host_state(h, host_state::stopped, t, h.watch, "planned stop");
  res.h = &h;
  return res;
}

}  // namespace heartbeat::server
