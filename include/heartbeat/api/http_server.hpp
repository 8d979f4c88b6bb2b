// hbd's HTTP side: the listeners on hbd_port (HTTP), ws_port (WebSocket only) and wss_port (HTTPS +
// WSS), TLS, start, stop and reload, with their connection limits (connection_limits.hpp), request
// time and body limits. What each request gets is in routes.hpp. RESTinio servers run on
// hbd's own io_context (restinio::external_io_context), so every handler runs on the registry's
// thread and reads it directly; slow password work goes to a worker thread.
#pragma once

#include <restinio/all.hpp>
#include <restinio/tls.hpp>

#include <chrono>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "heartbeat/api/auth.hpp"
#include "heartbeat/api/backend.hpp"
#include "heartbeat/api/connection_limits.hpp"
#include "heartbeat/api/handlers/metrics.hpp"
#include "heartbeat/api/metrics.hpp"
#include "heartbeat/api/request.hpp"
#include "heartbeat/api/router.hpp"
#include "heartbeat/api/routes.hpp"
#include "heartbeat/api/settings.hpp"
#include "heartbeat/api/websocket_hub.hpp"
#include "heartbeat/bus/events.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::api {

namespace detail {

// RESTinio's single-thread traits with our connection accounting as IP blocker and state listener.
struct plain_traits
    : restinio::single_thread_traits_t<restinio::asio_timer_manager_t, restinio::null_logger_t> {
  using ip_blocker_t = connection_guard;
  using connection_state_listener_t = connection_guard;
};
struct tls_traits
    : restinio::single_thread_tls_traits_t<restinio::asio_timer_manager_t, restinio::null_logger_t> {
  using ip_blocker_t = connection_guard;
  using connection_state_listener_t = connection_guard;
};

// RESTinio closes a connection whose body outgrows its limit without an answer, so it reads up to
// this many times http_max_body and dispatch() answers 413 for anything over http_max_body.
inline constexpr std::size_t body_read_factor = 4;

}  // namespace detail

class http_server {
 public:
  http_server(asio::io_context& io, settings s, backend& b) : io_(io), ctx_(io, std::move(s), b) {
    route_table plain_streams(ctx_, plain_streams_), tls_streams(ctx_, tls_streams_);
    route_table http(ctx_, http_), https(ctx_, https_);
    handlers::stream_routes<detail::plain_traits>(plain_streams);
    handlers::stream_routes<detail::tls_traits>(tls_streams);
    handlers::http_routes(http, false);
    handlers::http_routes(https, true);
  }

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;
  ~http_server() { stop(); }

  // Reads the web UI and binds every listener (call on the io thread or before io.run()). Errors:
  // "tls" (certificate or key missing/unreadable), "bind" (address in use, bad address).
  result<void> start() {
    // Two subscriptions: the hosts cache only needs to hear that a host changed, the WebSocket hub
    // needs payloads only while it has clients (so PLGs cost no JSON tree without a browser open).
    using bus::event_bit;
    using bus::event_kind;
    auto& ctx = ctx_;
    ctx.backend.subscribe_kinds(
        [&ctx, alive = std::weak_ptr<int>(ctx.alive)](const bus::event&) {
          if (!alive.expired()) ctx.hosts.expire();
        },
        event_bit(event_kind::host) | event_bit(event_kind::dropped), {});
    ctx.backend.subscribe_kinds(
        [&ctx, alive = std::weak_ptr<int>(ctx.alive)](const bus::event& e) {
          if (!alive.expired()) ctx.hub.publish(e, clock::mono_now());
        },
        event_bit(event_kind::host) | event_bit(event_kind::plugin) | event_bit(event_kind::message) |
            event_bit(event_kind::alert) | event_bit(event_kind::dropped),
        [&ctx, alive = std::weak_ptr<int>(ctx.alive)] { return !alive.expired() && ctx.hub.size() > 0; });
    ctx.web.load(resolve_web_dir(ctx.settings.web_dir));
    if (!ctx.web.has_chart_library())
      log::warn("api: the chart library (", ctx.web.dir(), "/static/", web_files::chart_library,
                ") is missing: pages show their data without charts (scripts/install-deps.sh vendors it)");
    ctx.connections->configure(ctx.settings.guard.max_connections, ctx.settings.guard.max_connections_per_ip);
    std::shared_ptr<asio::ssl::context> tls;
    if (ctx.settings.wss_port) {
      auto t = make_tls_context();
      if (!t) return t.err();
      tls = std::move(*t);
    }
    try {
      http_srv_ = open<detail::plain_traits>(ctx.settings.http_port, listener::http, nullptr, http_port_);
      if (ctx.settings.ws_enabled)
        ws_srv_ = open<detail::plain_traits>(ctx.settings.ws_port, listener::ws, nullptr, ws_port_);
      if (tls) wss_srv_ = open<detail::tls_traits>(*ctx.settings.wss_port, listener::wss, tls, wss_port_);
      ctx.ports = {http_port_, ws_srv_ ? ws_port_ : 0u, wss_srv_ ? wss_port_ : 0u};
    } catch (const std::exception& ex) {
      stop();
      return make_error("bind", std::string("cannot listen: ") + ex.what());
    }
    log::info("api: HTTP on ", ctx.settings.address, ":", http_port_,
              ctx.settings.ws_enabled ? ", WebSocket on " : "",
              ctx.settings.ws_enabled ? std::to_string(ws_port_) : std::string(),
              wss_srv_ ? ", HTTPS/WSS on " + std::to_string(wss_port_) : std::string(),
              ctx.users.enabled() ? " (users: " + std::to_string(ctx.users.all().size()) + ")"
                                  : " (no users: open)",
              "; web UI from ", ctx.web.dir());
    return {};
  }

  // Stops listening and drops WebSocket clients (synchronously, on the io thread).
  void stop() {
    ctx_.hub.close_all();
    auto close = [](auto& srv) {
      if (!srv) return;
      try {
        srv->close_sync();
      } catch (const std::exception& ex) {
        log::warn("api: closing a listener: ", ex.what());
      }
      srv.reset();
    };
    close(http_srv_);
    close(ws_srv_);
    close(wss_srv_);
  }

  // SIGHUP: users, CORS origins, the session TTL, http_hosts, trusted_proxies and the connection
  // limits follow the new configuration, and the web UI is read again (from a new web_dir too);
  // ports, TLS, http_max_body and http_header_timeout need a restart. Sessions of users that are
  // gone stop working at once.
  void reload(const settings& s) {
    ctx_.settings.users = s.users;
    ctx_.settings.cors_origins = s.cors_origins;
    ctx_.settings.guard.http_hosts = s.guard.http_hosts;
    ctx_.settings.guard.trusted_proxies = s.guard.trusted_proxies;
    ctx_.settings.guard.max_connections = s.guard.max_connections;
    ctx_.settings.guard.max_connections_per_ip = s.guard.max_connections_per_ip;
    ctx_.guard.configure(ctx_.settings.guard, ctx_.settings.address);
    ctx_.connections->configure(s.guard.max_connections, s.guard.max_connections_per_ip);
    ctx_.settings.session_ttl = s.session_ttl;
    ctx_.settings.web_dir = s.web_dir;
    ctx_.users = user_directory(s.users);
    ctx_.hosts.expire();
    ctx_.cors = cors_policy(s.cors_origins);
    ctx_.sessions.set_ttl(s.session_ttl);
    ctx_.web.load(resolve_web_dir(s.web_dir));
    log::info("api: reloaded (", ctx_.users.all().size(), " users)");
  }

  std::uint16_t http_port() const noexcept { return http_port_; }
  std::uint16_t ws_port() const noexcept { return ws_port_; }
  std::uint16_t wss_port() const noexcept { return wss_port_; }
  const user_directory& users() const noexcept { return ctx_.users; }
  // The effective users changed elsewhere (another hbd node): the API follows at once.
  void set_users(const std::vector<user>& users) {
    ctx_.settings.users = users;
    ctx_.users = user_directory(users);
    ctx_.hosts.expire();
  }
  session_store& sessions() noexcept { return ctx_.sessions; }
  websocket_hub& hub() noexcept { return ctx_.hub; }

  // API-side counters, appended to GET /metrics.
  void collect_own_metrics(metrics_writer& w) const { handlers::metrics::collect_own(ctx_, w); }

 private:
  template <class Traits>
  using server_ptr = std::unique_ptr<restinio::http_server_t<Traits>>;

  template <class Traits>
  server_ptr<Traits> open(std::uint16_t port, listener kind, std::shared_ptr<asio::ssl::context> tls,
                          std::uint16_t& actual) {
    const http_guard_config& g = ctx_.settings.guard;
    auto guard = std::make_shared<connection_guard>(ctx_.connections);
    restinio::server_settings_t<Traits> s;
    // A request (headers and body) must arrive within http_header_timeout of the connection becoming
    // ready for it, which also closes idle keep-alive connections then: a slow sender holds a
    // connection that long at most.
    s.port(port)
        .address(ctx_.settings.address.empty() ? std::string("0.0.0.0") : ctx_.settings.address)
        .read_next_http_message_timelimit(
            std::chrono::milliseconds(static_cast<long long>(g.header_timeout * 1000)))
        .write_http_response_timelimit(std::chrono::seconds(30))
        .handle_request_timeout(std::chrono::seconds(30))
        .incoming_http_msg_limits(
            restinio::incoming_http_msg_limits_t{}.max_body_size(g.max_body * detail::body_read_factor))
        .ip_blocker(guard)
        .connection_state_listener(guard)
        .acceptor_post_bind_hook([&actual](asio::ip::tcp::acceptor& a) {
          net::close_on_exec(a);
          actual = a.local_endpoint().port();
        });
    if constexpr (std::is_same_v<Traits, detail::tls_traits>) s.tls_context(std::move(tls));
    const express_router& streams = kind == listener::wss ? tls_streams_ : plain_streams_;
    const express_router* http = kind == listener::ws ? nullptr : kind == listener::wss ? &https_ : &http_;
    s.request_handler([this, kind, &streams, http](request_handle req) {
      try {
        return dispatch(ctx_, kind, streams, http, req);
      } catch (const std::exception& ex) {
        log::error("api: ", req->header().method().c_str(), " ", req->header().path(), ": ", ex.what());
        return ctx_.reply_error(req, 500, "internal error");
      }
    });
    auto srv =
        std::make_unique<restinio::http_server_t<Traits>>(restinio::external_io_context(io_), std::move(s));
    srv->open_sync();
    return srv;
  }

  result<std::shared_ptr<asio::ssl::context>> make_tls_context() {
    const auto& cert = ctx_.settings.cert_file;
    const auto& key = ctx_.settings.key_file;
    for (const auto* f : {&cert, &key}) {
      std::ifstream probe(*f);
      if (f->empty() || !probe)
        return make_error("tls", "wss_port is set but " + std::string(f == &cert ? "certificate" : "key") +
                                     " file '" + *f + "' is missing or unreadable");
    }
    try {
      auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
      ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
      ctx->use_certificate_chain_file(cert);
      ctx->use_private_key_file(key, asio::ssl::context::pem);
      return ctx;
    } catch (const std::exception& ex) {
      return make_error("tls", "cannot load certificate '" + cert + "' / key '" + key + "': " + ex.what());
    }
  }

  asio::io_context& io_;
  context ctx_;
  express_router plain_streams_, tls_streams_;  // WebSocket handshakes (routes.hpp)
  express_router http_, https_;                 // the HTTP table for hbd_port and wss_port
  server_ptr<detail::plain_traits> http_srv_;
  server_ptr<detail::plain_traits> ws_srv_;
  server_ptr<detail::tls_traits> wss_srv_;
  std::uint16_t http_port_ = 0, ws_port_ = 0, wss_port_ = 0;
};

}  // namespace heartbeat::api
