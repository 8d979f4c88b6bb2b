// Handlers of the server's health and counters: GET /healthz, GET /metrics (Prometheus text; host
// series only for the caller's hosts) and GET /api/0/stats, plus the API's own counters that
// /metrics appends. Run on the io thread.
#pragma once

#include <string>

#include "heartbeat/api/metrics.hpp"
#include "heartbeat/api/request.hpp"

namespace heartbeat::api::handlers::metrics {

// GET /healthz: {"status":"ok"} (any method, no session: load balancers and probes).
inline handled health(call& c) { return c.json(200, json::value::object({{"status", "ok"}})); }

// Sessions, WebSocket clients, logins and responses by status class.
inline void collect_own(const context& ctx, metrics_writer& w) {
  w.family("heartbeat_api_sessions", "gauge", "Live login sessions.");
  w.sample("heartbeat_api_sessions", {}, static_cast<double>(ctx.sessions.size()));
  w.family("heartbeat_websocket_clients", "gauge", "Connected WebSocket clients.");
  w.sample("heartbeat_websocket_clients", {}, static_cast<double>(ctx.hub.size()));
  w.family("heartbeat_websocket_messages_sent_total", "counter", "WebSocket messages queued to clients.");
  w.sample("heartbeat_websocket_messages_sent_total", {}, static_cast<double>(ctx.hub.sent()));
  w.family("heartbeat_websocket_slow_clients_dropped_total", "counter",
           "WebSocket clients dropped because their send buffer was full.");
  w.sample("heartbeat_websocket_slow_clients_dropped_total", {}, static_cast<double>(ctx.hub.slow_dropped()));
  w.family("heartbeat_api_logins_total", "counter", "Login attempts by result.");
  w.sample("heartbeat_api_logins_total", {{"result", "success"}}, static_cast<double>(ctx.logins_ok));
  w.sample("heartbeat_api_logins_total", {{"result", "failure"}}, static_cast<double>(ctx.logins_failed));
  w.sample("heartbeat_api_logins_total", {{"result", "rate_limited"}},
           static_cast<double>(ctx.logins_limited));
  w.family("heartbeat_http_connections", "gauge",
           "Open HTTP connections (all listeners, WebSockets excepted).");
  w.sample("heartbeat_http_connections", {}, static_cast<double>(ctx.connections->open()));
  w.family("heartbeat_http_connections_refused_total", "counter",
           "HTTP connections closed at once: http_max_connections or http_max_connections_per_ip reached.");
  w.sample("heartbeat_http_connections_refused_total", {}, static_cast<double>(ctx.connections->refused()));
  w.family("heartbeat_api_requests_total", "counter", "HTTP requests answered, by status class.");
  for (int i = 0; i < 5; ++i)
    w.sample("heartbeat_api_requests_total", {{"code", std::to_string(i + 1) + "xx"}},
             static_cast<double>(ctx.responses[i]));
}

// GET /metrics: hbd's families (docs/API.md) and the API's own.
inline handled scrape(call& c) {
  metrics_writer w;
  // Host series only for hosts the caller may see (as /api/0/hosts); server counters for everyone.
  c.ctx.backend.collect_metrics(w, c.p.open || c.ctx.is_admin(c.p) ? nullptr : c.p.who);
  collect_own(c.ctx, w);
  return c.ctx.reply(c.req, 200, w.str(), "text/plain; version=0.0.4; charset=utf-8");
}

// GET /api/0/stats: the datagram counters as JSON.
inline handled stats(call& c) { return c.json(200, c.ctx.backend.stats_json()); }

}  // namespace heartbeat::api::handlers::metrics
