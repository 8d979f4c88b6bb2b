// Handler of /api/0/messages: the recent host messages (MSG) of the hosts the caller holds a role
// on, oldest first. Runs on the io thread.
#pragma once

#include <string_view>

#include "heartbeat/api/request.hpp"

namespace heartbeat::api::handlers::messages {

// GET /api/0/messages: [{"time","host","msg","event"}, ...].
inline handled list(call& c) {
  json::value all = c.ctx.backend.messages();
  json::value out = json::value::array();
  for (const auto& m : all.as_array()) {
    const json::value* host = m.find("host");
    std::string_view hn =
        host && host->is_string() ? std::string_view(host->as_string()) : std::string_view{};
    if (c.p.open || c.ctx.is_admin(c.p) ||
        (!hn.empty() && c.ctx.backend.has_host(hn) && c.ctx.role_of(c.p, hn) != role::none))
      out.push_back(m);
  }
  return c.json(200, out);
}

}  // namespace heartbeat::api::handlers::messages
