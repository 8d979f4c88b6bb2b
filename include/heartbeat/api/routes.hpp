// Every route of hbd's HTTP side: method, path, who may call it, handler. Start here.
//
// A request goes through dispatch() (bottom of this file): first the checks of guard.hpp, in open
// mode too (a Host that does not name this server 421, a body over http_max_body 413, a write with
// a foreign Origin 403, a POST/PUT/PATCH body that is not application/json 415); then a path that
// does not percent-decode is 400; a WebSocket handshake goes to the stream table; ws_port serves
// nothing else; everything else goes to the HTTP table, whose rows are tried top to bottom. Paths are
// RESTinio express patterns matched case-sensitively with trailing slashes ignored; `:host`, `:name`,
// `:plugin` are one path segment each, percent-decoded before use. "Who may call" is checked before the
// handler runs (allow::..., router.hpp): anyone; page (a session, else 302 to /login); user (a session, else
// 401); monitor, manager, owner (that role on :host: 404 without any role, 403 below it; the admin flag is
// owner everywhere); admin (the admin flag, else 403, naming the refused action). Under /api/0 (t.api rows)
// cross-site writes are refused too (403). Errors are {"error": "..."} JSON. Handlers live in
// handlers/<resource>.hpp; docs/API.md describes the answers.
#pragma once

#include <restinio/all.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

#include "heartbeat/api/handlers/alerts.hpp"
#include "heartbeat/api/handlers/checks.hpp"
#include "heartbeat/api/handlers/cluster.hpp"
#include "heartbeat/api/handlers/commands.hpp"
#include "heartbeat/api/handlers/events.hpp"
#include "heartbeat/api/handlers/hosts.hpp"
#include "heartbeat/api/handlers/messages.hpp"
#include "heartbeat/api/handlers/metrics.hpp"
#include "heartbeat/api/handlers/pages.hpp"
#include "heartbeat/api/handlers/plugins.hpp"
#include "heartbeat/api/handlers/settings.hpp"
#include "heartbeat/api/handlers/stream.hpp"
#include "heartbeat/api/handlers/users.hpp"
#include "heartbeat/api/request.hpp"
#include "heartbeat/api/router.hpp"

// The tables are written inside handlers:: so that rows name handlers as hosts::list.
namespace heartbeat::api::handlers {

// The WebSocket stream (any listener; ws_port serves only this).
template <class Traits>
void stream_routes(route_table& t) {
  t.upgrade("/hbd", allow::user, stream::accept<Traits>);
  t.upgrade("/ws", allow::user, stream::accept<Traits>);
  t.otherwise(answer(404, "no WebSocket endpoint here"));
}

// Everything else (hbd_port, and wss_port when `tls`).
inline void http_routes(route_table& t, bool tls) {
  // clang-format off
  //    method                        path                                    who may call                               handler
  t.web(OPTIONS,                      ":path(.*)",                            allow::anyone,                             cors_preflight);
  t.web(any_method(),                 "/",                                    allow::anyone,                             pages::to_live);
  t.web(any_method(),                 "/healthz",                             allow::anyone,                             metrics::health);
  t.web(any_method(),                 "/metrics",                             allow::user,                               metrics::scrape);

  t.api(GET,                          "/api/0/hosts",                         allow::user,                               hosts::list);
  t.api(other_than(GET),              "/api/0/hosts",                         allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/hosts/:host",                   allow::monitor,                            hosts::get);
  t.api(DELETE,                       "/api/0/hosts/:host",                   allow::owner, "dropping a host",           hosts::drop);
  t.api(other_than(GET, DELETE),      "/api/0/hosts/:host",                   allow::monitor,                            answer(405, "use GET or DELETE"));
  t.api(GET,                          "/api/0/hosts/:host/access",            allow::owner, "viewing access",            hosts::access);
  t.api(PUT,                          "/api/0/hosts/:host/access",            allow::owner, "changing access",           hosts::set_access);
  t.api(other_than(GET, PUT),         "/api/0/hosts/:host/access",            allow::monitor,                            answer(405, "use GET or PUT"));
  t.api(GET,                          "/api/0/hosts/:host/plugins",           allow::monitor,                            plugins::list);
  t.api(GET,                          "/api/0/hosts/:host/plugins/:plugin",   allow::monitor,                            plugins::history);
  t.api(other_than(GET),              "/api/0/hosts/:host/plugins",           allow::monitor,                            answer(405, "use GET"));
  t.api(other_than(GET),              "/api/0/hosts/:host/plugins/:rest(.*)", allow::monitor,                            answer(405, "use GET"));
  t.api(GET,                          "/api/0/hosts/:host/alerts",            allow::monitor,                            alerts::for_host);
  t.api(other_than(GET),              "/api/0/hosts/:host/alerts",            allow::monitor,                            answer(405, "use GET"));
  t.api(POST,                         "/api/0/hosts/:host/alerts/ack",        allow::manager, "acknowledging an alert",  alerts::ack);
  t.api(other_than(POST),             "/api/0/hosts/:host/alerts/ack",        allow::monitor,                            answer(405, "use POST"));
  t.api(POST,                         "/api/0/hosts/:host/commands",          allow::manager, "queueing a command",      commands::queue);
  t.api(other_than(POST),             "/api/0/hosts/:host/commands",          allow::monitor,                            answer(405, "use POST"));
  t.api(POST,                         "/api/0/hosts/:host/upgrade",           allow::manager, "queueing an upgrade",     commands::upgrade);
  t.api(other_than(POST),             "/api/0/hosts/:host/upgrade",           allow::monitor,                            answer(405, "use POST"));
  t.api(POST,                         "/api/0/hosts/:host/dns",               allow::manager, "triggering a DNS update", commands::dns);
  t.api(other_than(POST),             "/api/0/hosts/:host/dns",               allow::monitor,                            answer(405, "use POST"));
  // Anything else below a host: 404 after the host check (an empty {host} is "Host '' not found").
  t.api(any_method(),                 "/api/0/hosts/:host([^/]*)/:rest(.*)",  allow::monitor,                            answer(404, "unknown endpoint"));

  t.api(GET,                          "/api/0/alerts",                        allow::user,                               alerts::all);
  t.api(other_than(GET),              "/api/0/alerts",                        allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/messages",                      allow::user,                               messages::list);
  t.api(other_than(GET),              "/api/0/messages",                      allow::user,                               answer(405, "use GET"));
  // Active checks, services, rotas: who may see or run which is decided by the backend (docs/CHECKS.md).
  t.api(GET,                          "/api/0/checks",                        allow::user,                               checks::list);
  t.api(other_than(GET),              "/api/0/checks",                        allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/checks/:name",                  allow::user,                               checks::get);
  t.api(other_than(GET),              "/api/0/checks/:name",                  allow::user,                               answer(405, "use GET"));
  t.api(POST,                         "/api/0/checks/:name/run",              allow::user,                               checks::run);
  t.api(other_than(POST),             "/api/0/checks/:name/run",              allow::user,                               answer(405, "use POST"));
  t.api(POST,                         "/api/0/checks/:name/ack",              allow::user,                               checks::ack);
  t.api(other_than(POST),             "/api/0/checks/:name/ack",              allow::user,                               answer(405, "use POST"));
  t.api(GET,                          "/api/0/services",                      allow::user,                               checks::services);
  t.api(other_than(GET),              "/api/0/services",                      allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/services/:name",                allow::user,                               checks::service);
  t.api(other_than(GET),              "/api/0/services/:name",                allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/rotas",                         allow::user,                               checks::rotas);
  t.api(other_than(GET),              "/api/0/rotas",                         allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/status/:service",               allow::anyone,                             checks::status_json);
  t.api(other_than(GET),              "/api/0/status/:service",               allow::anyone,                             answer(405, "use GET"));

  t.api(POST,                         "/api/0/auth/login",                    allow::anyone,                             users::login(tls));
  t.api(other_than(POST),             "/api/0/auth/login",                    allow::anyone,                             answer(405, "use POST"));
  t.api(POST,                         "/api/0/auth/logout",                   allow::user,                               users::logout);
  t.api(other_than(POST),             "/api/0/auth/logout",                   allow::user,                               answer(405, "use POST"));
  t.api(GET,                          "/api/0/me",                            allow::user,                               users::me);
  t.api(other_than(GET),              "/api/0/me",                            allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/users",                         allow::admin, "user management",           users::list);
  t.api(POST,                         "/api/0/users",                         allow::admin, "user management",           users::create);
  t.api(other_than(GET, POST),        "/api/0/users",                         allow::admin, "user management",           answer(405, "use GET or POST"));
  t.api(GET,                          "/api/0/users/:name",                   allow::admin, "user management",           users::get);
  t.api(PUT,                          "/api/0/users/:name",                   allow::admin, "user management",           users::update);
  t.api(DELETE,                       "/api/0/users/:name",                   allow::admin, "user management",           users::remove);
  t.api(other_than(GET, PUT, DELETE), "/api/0/users/:name",                   allow::admin, "user management",           users::method_not_allowed);
  t.api(any_method(),                 "/api/0/users/:rest(.*)",               allow::admin, "user management",           answer(404, "unknown endpoint"));

  t.api(GET,                          "/api/0/settings",                      allow::user,                               settings::show);
  t.api(other_than(GET),              "/api/0/settings",                      allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/config",                        allow::admin, "the server configuration",  settings::config);
  t.api(other_than(GET),              "/api/0/config",                        allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/maintenance",                   allow::user,                               settings::maintenance);
  t.api(other_than(GET),              "/api/0/maintenance",                   allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/stats",                         allow::user,                               metrics::stats);
  t.api(other_than(GET),              "/api/0/stats",                         allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/events",                        allow::user,                               events::list);
  t.api(other_than(GET),              "/api/0/events",                        allow::user,                               answer(405, "use GET"));
  t.api(GET,                          "/api/0/cluster",                       allow::user,                               cluster::show);
  t.api(other_than(GET),              "/api/0/cluster",                       allow::user,                               answer(405, "use GET"));
  t.api(any_method(),                 "/api/0",                               allow::user,                               answer(404, "unknown endpoint"));
  t.api(any_method(),                 "/api/0/:rest(.*)",                     allow::user,                               answer(404, "unknown endpoint"));
  t.api(any_method(),                 "/api",                                 allow::anyone,                             answer(404, "unknown API version"));
  t.api(any_method(),                 "/api/:rest(.*)",                       allow::anyone,                             answer(404, "unknown API version"));

  t.web(any_of(GET, HEAD),            "/live",                                allow::page,                               pages::serve("live.html"));
  t.web(any_of(GET, HEAD),            "/alerts",                              allow::page,                               pages::serve("alerts.html"));
  t.web(any_of(GET, HEAD),            "/settings",                            allow::page,                               pages::serve("settings.html"));
  t.web(any_of(GET, HEAD),            "/plugins",                             allow::page,                               pages::serve("plugins.html"));
  t.web(any_of(GET, HEAD),            "/plugins/:host",                       allow::page,                               pages::host_page);
  t.web(any_of(GET, HEAD),            "/events",                              allow::page,                               pages::serve("events.html"));
  t.web(any_of(GET, HEAD),            "/services",                            allow::page,                               pages::serve("services.html"));
  t.web(any_of(GET, HEAD),            "/status/:service",                     allow::anyone,                             checks::status_page);
  t.web(any_of(GET, HEAD),            "/login",                               allow::anyone,                             pages::serve("login.html"));
  t.web(any_of(GET, HEAD),            "/favicon.ico",                         allow::anyone,                             pages::favicon);
  t.web(any_of(GET, HEAD),            "/static/:file(.*)",                    allow::anyone,                             pages::static_file);
  t.web(other_than(GET, HEAD),        ":path(.*)",                            allow::anyone,                             answer(405, "method not allowed"));
  // No row matched: 404.
  t.otherwise(answer(404, "not found"));
  // clang-format on
}

}  // namespace heartbeat::api::handlers

namespace heartbeat::api {

// Which listener a request came in on.
enum class listener : std::uint8_t { http, ws, wss };

// The first step of every request on every listener; `http` is null on ws_port.
inline handled dispatch(context& ctx, listener kind, const express_router& streams,
                        const express_router* http, request_handle req) {
  const auto& h = req->header();
  auto field = [&h](restinio::http_field_t f) -> std::optional<std::string_view> {
    if (const std::string* v = h.try_get_field(f)) return std::string_view(*v);
    return std::nullopt;
  };
  if (auto refused = ctx.guard.check(h.method().c_str(), field(restinio::http_field::host),
                                     field(restinio::http_field::origin),
                                     h.get_field_or(restinio::http_field::content_type, ""),
                                     req->body().size(), [&] { return ctx.origin_ok(req); }))
    return ctx.reply_error(req, refused->status, refused->message);
  if (!detail::valid_path(h.path())) return ctx.reply_error(req, 400, "malformed URL path");
  if (restinio::impl::is_equal_caseless(h.get_field_or(restinio::http_field::upgrade, ""), "websocket"))
    return streams(std::move(req));
  if (kind == listener::ws || !http)
    return ctx.reply_error(req, 404, "this port serves only the WebSocket stream at /hbd");
  return (*http)(std::move(req));
}

}  // namespace heartbeat::api
