// What every HTTP handler shares (api::context: users, sessions, CORS, the WebSocket hub, the
// password worker, web files, the hosts list cache, counters) and uses per request (api::call: the
// caller, the host named in the path): JSON replies and errors, body and query parsing, who the
// caller is. Everything here lives on the io thread; only the worker's jobs run elsewhere.
#pragma once

#include <restinio/all.hpp>
#include <restinio/router/express.hpp>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/api/auth.hpp"
#include "heartbeat/api/backend.hpp"
#include "heartbeat/api/connection_limits.hpp"
#include "heartbeat/api/detail/worker.hpp"
#include "heartbeat/api/guard.hpp"
#include "heartbeat/api/hosts_cache.hpp"
#include "heartbeat/api/settings.hpp"
#include "heartbeat/api/web_files.hpp"
#include "heartbeat/api/websocket_hub.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"

namespace heartbeat::api {

using request_handle = restinio::request_handle_t;
using handled = restinio::request_handling_status_t;
using extra_headers = std::vector<std::pair<std::string, std::string>>;

// An HTTP-level failure: status code and the {"error": message} body.
struct http_error {
  int status;
  std::string message;
};

// The authenticated caller of one request.
struct principal {
  bool open = false;          // no users configured: may do everything
  const user* who = nullptr;  // set when authenticated
  std::string token;
  const session* sess = nullptr;
  bool via_cookie = false;
};

inline bool authenticated(const principal& p) noexcept { return p.open || p.who; }
inline std::string actor_name(const principal& p) { return p.who ? p.who->name : std::string("anonymous"); }
inline std::string who(const principal& p) {
  return p.who ? "'" + p.who->name + "'" : std::string("anonymous");
}

namespace detail {

// Whether every segment of a URL path percent-decodes (as RESTinio's default unescaping does: only
// unreserved characters, '+' and well-formed UTF-8 escapes) to text without a NUL byte.
inline bool valid_path(std::string_view path) {
  std::size_t i = !path.empty() && path[0] == '/' ? 1 : 0;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    auto dec = restinio::utils::try_unescape_percent_encoding(path.substr(i, j - i));
    if (!dec || dec->find('\0') != std::string::npos) return false;
    i = j + 1;
  }
  return true;
}

// Splits a relative path ("js/api.js") into percent-decoded segments.
inline std::vector<std::string> split_segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    auto dec = restinio::utils::try_unescape_percent_encoding(path.substr(i, j - i));
    out.push_back(dec ? std::move(*dec) : std::string());
    i = j + 1;
  }
  return out;
}

// Parses a non-negative integer of at most 9 digits (`offset`). nullopt when malformed.
inline std::optional<std::size_t> parse_count(std::string_view v) {
  if (v.empty() || v.size() > 9) return std::nullopt;
  std::size_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return n;
}

// Parses `limit`: a positive integer, capped at `cap`. nullopt when malformed.
inline std::optional<std::size_t> parse_limit(std::string_view v, std::size_t cap) {
  auto n = parse_count(v);
  if (!n || *n == 0) return std::nullopt;
  return std::min(*n, cap);
}

// Parses a Unix time in seconds (`since`, `until`): a finite, non-negative decimal number.
inline std::optional<double> parse_time(std::string_view v) {
  if (v.empty() || v.size() > 32) return std::nullopt;
  std::string s(v);
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(d) || d < 0) return std::nullopt;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return std::nullopt;
  return d;
}

inline json::value string_array(const std::vector<std::string>& v) {
  json::value a = json::value::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

inline restinio::http_status_line_t status_line(int code) {
  switch (code) {
    case 200: return restinio::status_ok();
    case 201: return restinio::status_created();
    case 204: return restinio::status_no_content();
    case 302: return restinio::status_found();
    case 400: return restinio::status_bad_request();
    case 401: return restinio::status_unauthorized();
    case 403: return restinio::status_forbidden();
    case 404: return restinio::status_not_found();
    case 405: return restinio::status_method_not_allowed();
    case 409: return restinio::status_conflict();
    case 413: return restinio::status_payload_too_large();
    case 415: return restinio::status_unsupported_media_type();
    case 421: return restinio::http_status_line_t{restinio::http_status_code_t{421}, "Misdirected Request"};
    case 429: return restinio::status_too_many_requests();
    case 503: return restinio::status_service_unavailable();
    default: return restinio::status_internal_server_error();
  }
}

}  // namespace detail

// The state every handler shares; owned by http_server, used on the io thread.
struct context {
  context(asio::io_context& io, api::settings s, api::backend& b)
      : settings(std::move(s)),
        backend(b),
        users(settings.users),
        sessions(settings.session_ttl),
        cors(settings.cors_origins),
        hub(b, websocket_hub::limits{settings.ws_max_pending_bytes, settings.ws_max_clients}),
        worker(io),
        alive(std::make_shared<int>(0)),
        hosts(settings.hosts_cache_ttl),
        guard(settings.guard, settings.address) {
    limits.per_user = rate_limiter(settings.login_per_user, settings.login_window);
    limits.per_address = rate_limiter(settings.login_per_address, settings.login_window);
    // A dummy hash with the same cost as real ones: an unknown user name costs as much as a wrong
    // password, so timing does not reveal which accounts exist.
    unsigned it = default_pbkdf2_iterations;
    for (const auto& u : settings.users)
      if (auto h = parse_password_hash(u.password); h.valid()) it = h.iterations;
    dummy_hash = "pbkdf2:sha256:" + std::to_string(it) + "$AAAAAAAAAAAAAAAA$" + std::string(64, '0');
  }

  api::settings settings;
  api::backend& backend;
  user_directory users;
  session_store sessions;
  login_limits limits;
  cors_policy cors;
  websocket_hub hub;
  detail::worker worker;
  std::shared_ptr<int> alive;  // replies posted back from the worker check it before touching the context
  web_files web;
  hosts_cache hosts;
  http_guard guard;  // checks every request passes first (dispatch in routes.hpp)
  own_ports ports;   // the listeners' ports once bound (http_server::start), for origin_ok
  std::shared_ptr<connection_limits> connections = std::make_shared<connection_limits>();  // all listeners
  std::string dummy_hash;
  std::uint64_t logins_ok = 0, logins_failed = 0, logins_limited = 0;
  std::uint64_t responses[5] = {0, 0, 0, 0, 0};  // by status class, for heartbeat_api_requests_total

  void count(int status) {
    int cls = status / 100 - 1;
    if (cls >= 0 && cls < 5) ++responses[cls];
  }

  // A JSON or text reply; like every reply below it counts in heartbeat_api_requests_total and
  // carries the CORS headers for an allowed Origin. `body` is a std::string, or a shared buffer
  // (std::shared_ptr<std::string>) sent without a copy.
  handled reply(const request_handle& req, int status, restinio::writable_item_t body,
                std::string_view content_type, const extra_headers& extra = {}) {
    count(status);
    auto r = req->create_response(detail::status_line(status));
    r.append_header(restinio::http_field::content_type, std::string(content_type));
    r.append_header("Cache-Control", "no-store");
    r.append_header("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : cors.headers(req->header().get_field_or("Origin", ""), false))
      r.append_header(k, v);
    for (const auto& [k, v] : extra) r.append_header(k, v);
    r.set_body(std::move(body));
    r.done();
    return restinio::request_accepted();
  }

  handled reply_json(const request_handle& req, int status, const json::value& v,
                     const extra_headers& extra = {}) {
    return reply(req, status, v.dump(), "application/json", extra);
  }

  handled reply_error(const request_handle& req, int status, std::string_view message,
                      const extra_headers& extra = {}) {
    return reply_json(req, status, json::value::object({{"error", std::string(message)}}), extra);
  }

  handled reply_error(const request_handle& req, const http_error& e) {
    return reply_error(req, e.status, e.message);
  }

  // A 200 JSON answer whose body is shared (not copied) with a cache.
  handled reply_shared(const request_handle& req, std::shared_ptr<const std::string> body, bool gzipped,
                       const extra_headers& extra = {}) {
    count(200);
    auto r = req->create_response(restinio::status_ok());
    r.append_header(restinio::http_field::content_type, "application/json");
    r.append_header("Vary", "Accept-Encoding");
    if (gzipped) r.append_header(restinio::http_field::content_encoding, "gzip");
    r.append_header("Cache-Control", "no-store");
    r.append_header("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : cors.headers(req->header().get_field_or("Origin", ""), false))
      r.append_header(k, v);
    for (const auto& [k, v] : extra) r.append_header(k, v);
    r.set_body(restinio::writable_item_t{std::const_pointer_cast<std::string>(std::move(body))});
    r.done();
    return restinio::request_accepted();
  }

  handled redirect(const request_handle& req, std::string location) {
    return reply(req, 302, "", "text/plain", {{"Location", std::move(location)}});
  }

  // Maps a backend error code to its status (docs/API.md): not_found 404, bad input 400, conflict 409,
  // unavailable 503, anything else 500.
  handled backend_error(const request_handle& req, const error& e) {
    int status = 500;
    if (e.code == "not_found")
      status = 404;
    else if (e.code == "bad_request" || e.code == "bad_command" || e.code == "no_address")
      status = 400;
    else if (e.code == "conflict" || e.code == "not_authenticated")
      status = 409;
    else if (e.code == "unavailable" || e.code == "store_busy")
      status = 503;
    return reply_error(req, status, e.message);
  }

  // A request body: a JSON object of at most http_max_body bytes, the limit dispatch() already
  // applied to every request (Content-Type JSON or none).
  result<json::value> parse_body(const request_handle& req) const {
    const auto& body = req->body();
    if (const std::size_t max = guard.config().max_body; body.size() > max)
      return make_error("too_large",
                        "request body too large (http_max_body is " + std::to_string(max) + " bytes)");
    std::string ct = req->header().get_field_or(restinio::http_field::content_type, "");
    if (!ct.empty() && ct.find("json") == std::string::npos)
      return make_error("bad_request", "Content-Type must be application/json");
    auto v = json::parse(body, json::parse_limits{16});
    if (!v) return make_error("bad_request", "request body is not valid JSON");
    if (!v->is_object()) return make_error("bad_request", "request body must be a JSON object");
    return v;
  }

  handled body_error(const request_handle& req, const error& e) {
    return reply_error(req, e.code == "too_large" ? 413 : 400, e.message);
  }

  // The caller from `Authorization: Bearer`, else the session cookie, else (WebSocket handshakes
  // only) `?token=`.
  principal authenticate(const request_handle& req, bool allow_query_token) const {
    principal p;
    if (!users.enabled()) {
      p.open = true;
      return p;
    }
    const auto& h = req->header();
    std::string auth = h.get_field_or(restinio::http_field::authorization, "");
    std::string token(bearer_token(auth));
    if (token.empty()) {
      std::string cookies = h.get_field_or(restinio::http_field::cookie, "");
      token = std::string(cookie_value(cookies, session_cookie));
      p.via_cookie = !token.empty();
    }
    if (token.empty() && allow_query_token) {
      auto qp = restinio::try_parse_query<restinio::parse_query_traits::javascript_compatible>(h.query());
      if (qp && qp->has("token")) token = std::string(qp->get_param("token").value_or(""));
    }
    if (token.empty()) return p;
    const session* s = sessions.find(token, clock::mono_now());
    if (!s) return p;
    const user* u = users.find(s->user);
    if (!u) return p;
    p.who = u;
    p.sess = s;
    p.token = std::move(token);
    return p;
  }

  role role_of(const principal& p, std::string_view host) const {
    if (p.open) return role::owner;
    if (!p.who) return role::none;
    if (p.who->admin) return role::owner;
    return role_on(*p.who, backend.access(host));
  }

  bool is_admin(const principal& p) const noexcept { return p.open || (p.who && p.who->admin); }

  // The client's address: the peer's, or from X-Forwarded-For when the peer is in trusted_proxies
  // (the rightmost address that is not itself a trusted proxy).
  std::string client_address(const request_handle& req) const {
    std::string peer = req->remote_endpoint().address().to_string();
    if (!guard.trusted_proxy(peer)) return peer;
    std::string xff = req->header().get_field_or("X-Forwarded-For", "");
    std::string_view rest(xff);
    while (!rest.empty()) {
      auto comma = rest.rfind(',');
      std::string_view item = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!net_block::parse(item)) break;  // not an address: believe nothing further left
      if (!guard.trusted_proxy(item)) return std::string(item);
      peer = std::string(item);
    }
    return peer;
  }

  // The request reached a trusted proxy over HTTPS (X-Forwarded-Proto from a trusted_proxies peer).
  bool forwarded_https(const request_handle& req) const {
    return guard.trusted_proxy(req->remote_endpoint().address().to_string()) &&
           detail::lower_ascii(req->header().get_field_or("X-Forwarded-Proto", "")) == "https";
  }

  // Hbd's own or an allow-listed Origin header (absent is fine: not a browser cross-site request).
  // Own: this host and port, or this host and another of hbd's listeners (api::own_origin).
  bool origin_ok(const request_handle& req) const {
    std::string origin = req->header().get_field_or("Origin", "");
    if (origin.empty() || origin == "null") return origin.empty();
    if (cors.allows(origin)) return true;
    return own_origin(origin, req->header().get_field_or(restinio::http_field::host, ""), ports);
  }
};

// One routed request: the context, the caller and, for routes under /api/0/hosts/:host, the host
// and the caller's role on it (set by the route's access check before the handler runs).
struct call {
  context& ctx;
  request_handle req;
  restinio::router::route_params_t params;
  principal p;
  std::string host;
  role on_host = role::none;

  // A path parameter, percent-decoded.
  std::string param(std::string_view name) const {
    auto dec = restinio::utils::try_unescape_percent_encoding(params[name]);
    return dec ? std::move(*dec) : std::string();
  }

  // The query string, or nullopt when it does not parse (the handlers answer 400).
  auto query() const {
    return restinio::try_parse_query<restinio::parse_query_traits::javascript_compatible>(
        req->header().query());
  }

  handled json(int status, const json::value& v, const extra_headers& extra = {}) {
    return ctx.reply_json(req, status, v, extra);
  }
  handled error(int status, std::string_view message, const extra_headers& extra = {}) {
    return ctx.reply_error(req, status, message, extra);
  }
  handled error(const http_error& e) { return ctx.reply_error(req, e); }
};

// What a route runs once its access check passed.
using handler = std::function<handled(call&)>;

}  // namespace heartbeat::api
