// Handlers of what the server shows about itself: its settings (for the web UI's settings page),
// the effective configuration (admins; secrets masked) and the maintenance windows. Run on the io
// thread.
#pragma once

#include <string_view>

#include "heartbeat/api/request.hpp"
#include "heartbeat/core/clock.hpp"

namespace heartbeat::api::handlers::settings {

// GET /api/0/settings: ports, timing, thresholds, auth_enabled, cors_origins, session_ttl (no secrets).
inline handled show(call& c) {
  json::value s = c.ctx.backend.settings_json();
  s.set("auth_enabled", c.ctx.users.enabled());
  s.set("cors_origins", detail::string_array(c.ctx.settings.cors_origins));
  s.set("session_ttl", c.ctx.settings.session_ttl);
  return c.json(200, s);
}

// GET /api/0/config: the configuration in force (defaults filled in), every secret "***"; 404 when
// not available.
inline handled config(call& c) {
  json::value cfg = c.ctx.backend.config_json();
  if (cfg.is_null()) return c.error(404, "the configuration is not available");
  return c.json(200, cfg);
}

// GET /api/0/maintenance: the windows that concern a host the caller holds a role on (or every host).
inline handled maintenance(call& c) {
  auto visible = [&](std::string_view h) {
    return c.ctx.is_admin(c.p) || c.ctx.role_of(c.p, h) != role::none;
  };
  json::value m = c.ctx.backend.maintenance_json(clock::wall_now(), visible);
  if (m.is_null()) return c.error(404, "maintenance windows are not available");
  return c.json(200, m);
}

}  // namespace heartbeat::api::handlers::settings
