// Handlers of the alert states: one host's alerts, every non-OK alert the caller may see, and
// acknowledging one (reminders stop until its level changes). Run on the io thread; routes.hpp
// checks roles.
#pragma once

#include <string>
#include <string_view>

#include "heartbeat/api/request.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::api::handlers::alerts {

// GET /api/0/hosts/{h}/alerts: {"hostname","alerts":[every level],"summary"}.
inline handled for_host(call& c) { return c.json(200, c.ctx.backend.host_alerts(c.host)); }

// GET /api/0/alerts: the non-OK alerts of the hosts the caller holds a role on.
inline handled all(call& c) {
  auto visible = [&](std::string_view h) { return c.p.open || c.ctx.role_of(c.p, h) != role::none; };
  const user* audience = c.p.open || c.ctx.is_admin(c.p) ? nullptr : c.p.who;
  std::size_t host_count = 0;
  if (!audience)
    host_count = c.ctx.backend.host_count();
  else
    for (const auto& name : c.ctx.backend.host_names())
      if (visible(name)) ++host_count;
  std::string body;
  c.ctx.backend.write_alerts_for(body, host_count, visible, audience);
  return c.ctx.reply(c.req, 200, std::move(body), "application/json");
}

// POST /api/0/hosts/{h}/alerts/ack {"metric_path"}: the alert event data.
inline handled ack(call& c) {
  auto body = c.ctx.parse_body(c.req);
  if (!body) return c.ctx.body_error(c.req, body.err());
  const json::value* mp = body->find("metric_path");
  if (!mp || !mp->is_string() || mp->as_string().empty())
    return c.error(400, "\"metric_path\" (a non-empty string) is required");
  auto res = c.ctx.backend.ack_alert(c.host, mp->as_string(), actor_name(c.p));
  if (!res) return c.ctx.backend_error(c.req, res.err());
  log::info("api: alert ", mp->as_string(), " on '", c.host, "' acknowledged by ", who(c.p));
  return c.json(200, *res);
}

}  // namespace heartbeat::api::handlers::alerts
