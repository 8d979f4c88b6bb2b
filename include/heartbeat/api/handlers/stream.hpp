// Handler of the WebSocket handshake (/hbd, /ws): checks the Origin and the client limit, then hands
// the connection to the hub. Runs on the io thread; routes.hpp has already authenticated the caller.
#pragma once

#include "heartbeat/api/request.hpp"

namespace heartbeat::api::handlers::stream {

template <class Traits>
handled accept(call& c) {
  if (!c.ctx.origin_ok(c.req)) return c.error(403, "cross-origin WebSocket not allowed");
  if (c.ctx.hub.full()) return c.error(503, "too many WebSocket clients");
  websocket_hub::identity id;
  if (c.p.who) {
    id.who = *c.p.who;
    id.token = c.p.token;
    id.expires = c.p.sess->deadline;  // monotonic, like the hub's clock
  }
  c.ctx.hub.accept<Traits>(*c.req, std::move(id));
  return restinio::request_accepted();
}

}  // namespace heartbeat::api::handlers::stream
