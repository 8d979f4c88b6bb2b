// hbd's HTTP side: the REST API of seed 002 plus INTERFACES.md, GET /metrics and /healthz, the web
// UI's pages and static files, and the WebSocket stream, on hbd_port (HTTP), ws_port (WebSocket
// only) and wss_port (HTTPS + WSS). RESTinio servers run on hbd's own io_context
// (restinio::external_io_context), so every handler runs on the registry's thread and reads it
// directly; slow password work goes to a worker thread.
#pragma once

#include <zlib.h>
#include <restinio/all.hpp>
#include <restinio/tls.hpp>
#include <restinio/websocket/websocket.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/api/auth.hpp"
#include "heartbeat/api/backend.hpp"
#include "heartbeat/api/detail/worker.hpp"
#include "heartbeat/api/metrics.hpp"
#include "heartbeat/api/websocket_hub.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"

#ifndef HB_WEB_SOURCE_DIR
#define HB_WEB_SOURCE_DIR ""
#endif
#ifndef HB_WEB_INSTALL_DIR
#define HB_WEB_INSTALL_DIR "/usr/local/share/heartbeat/web"
#endif

namespace heartbeat::api {

// Everything the HTTP side is configured with; the server's app fills it from server::config.
struct settings {
  std::string address = "0.0.0.0";  // hbd_host ("" means all interfaces)
  std::uint16_t http_port = 50004;  // hbd_port; 0 = ephemeral
  std::uint16_t ws_port = 50005;    // ws_port; 0 = ephemeral; disabled when ws_enabled is false
  bool ws_enabled = true;
  std::optional<std::uint16_t> wss_port;  // HTTPS + WSS when set
  std::string cert_file;                  // cert_path + wss_pem
  std::string key_file;                   // cert_path + wss_key
  std::string web_dir;                    // empty: search (see resolve_web_dir)
  std::vector<std::string> cors_origins;  // cors_origins; empty = CORS off
  double session_ttl = 12 * 3600;         // session_ttl seconds
  std::vector<user> users;                // users; empty = unauthenticated mode
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t ws_max_pending_bytes = 4u << 20;
  std::size_t ws_max_clients = 10000;
  double hosts_cache_ttl = 1.0;        // seconds a rendered GET /api/0/hosts may be reused (0: never)
  std::size_t login_per_user = 5;      // failed logins per user per login_window
  std::size_t login_per_address = 20;  // failed logins per client address per login_window
  double login_window = 300;
};

// The web UI directory: the configured one, else the source tree's web/ (compile definition
// HB_WEB_SOURCE_DIR), else web/ next to the binary, else ${prefix}/share/heartbeat/web.
inline std::string resolve_web_dir(const std::string& configured) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!configured.empty()) return configured;
  if (std::string_view(HB_WEB_SOURCE_DIR).size() && fs::is_directory(HB_WEB_SOURCE_DIR, ec))
    return HB_WEB_SOURCE_DIR;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = exe.parent_path() / "web";
    if (fs::is_directory(beside, ec)) return beside.string();
    auto share = exe.parent_path().parent_path() / "share" / "heartbeat" / "web";
    if (fs::is_directory(share, ec)) return share.string();
  }
  return HB_WEB_INSTALL_DIR;
}

namespace detail {

using plain_traits =
    restinio::single_thread_traits_t<restinio::asio_timer_manager_t, restinio::null_logger_t>;
using tls_traits =
    restinio::single_thread_tls_traits_t<restinio::asio_timer_manager_t, restinio::null_logger_t>;
using request_handle = restinio::request_handle_t;

inline std::string_view content_type_for(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// Splits a URL path into percent-decoded segments; nullopt for malformed escapes or a NUL byte.
inline std::optional<std::vector<std::string>> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    auto seg = path.substr(i, j - i);
    auto dec = restinio::utils::try_unescape_percent_encoding(seg);
    if (!dec) return std::nullopt;
    if (dec->find('\0') != std::string::npos) return std::nullopt;
    out.push_back(std::move(*dec));
    i = j + 1;
  }
  while (!out.empty() && out.back().empty()) out.pop_back();  // trailing slash
  return out;
}

// A file under `root` for the relative segments, refusing anything that could leave it.
inline std::optional<std::filesystem::path> safe_join(const std::filesystem::path& root,
                                                      const std::vector<std::string>& segs,
                                                      std::size_t from) {
  namespace fs = std::filesystem;
  fs::path p = root;
  if (from >= segs.size()) return std::nullopt;
  for (std::size_t i = from; i < segs.size(); ++i) {
    const auto& s = segs[i];
    if (s.empty() || s == "." || s == ".." || s.find('/') != std::string::npos ||
        s.find('\\') != std::string::npos || s[0] == '.')
      return std::nullopt;
    p /= s;
  }
  std::error_code ec;
  auto real_root = fs::weakly_canonical(root, ec);
  if (ec) return std::nullopt;
  auto real = fs::weakly_canonical(p, ec);
  if (ec) return std::nullopt;
  auto rs = real_root.string(), fsr = real.string();
  if (fsr.size() <= rs.size() || fsr.compare(0, rs.size(), rs) != 0 || fsr[rs.size()] != '/')
    return std::nullopt;
  if (!fs::is_regular_file(real, ec)) return std::nullopt;
  return real;
}

inline std::optional<std::string> read_file(const std::filesystem::path& p, std::size_t max = 16u << 20) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::string s;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    s.append(buf, static_cast<std::size_t>(in.gcount()));
    if (s.size() > max) return std::nullopt;
  }
  return s;
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

// gzip (RFC 1952) of `in` at a fast level; nullptr when zlib fails.
inline std::shared_ptr<const std::string> gzip(const std::string& in) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return nullptr;
  auto out = std::make_shared<std::string>();
  out->resize(deflateBound(&z, static_cast<uLong>(in.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out->data());
  z.avail_out = static_cast<uInt>(out->size());
  int rc = deflate(&z, Z_FINISH);
  out->resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return nullptr;
  return out;
}

inline json::value string_array(const std::vector<std::string>& v) {
  json::value a = json::value::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

// Reads a list of user names from a JSON member; false when it is not a list of strings.
inline bool read_names(const json::value& body, std::string_view key, std::vector<std::string>& out) {
  const json::value* v = body.find(key);
  if (!v || v->is_null()) return true;
  if (!v->is_array()) return false;
  for (const auto& e : v->as_array()) {
    if (!e.is_string() || !valid_user_name(e.as_string())) return false;
    out.push_back(e.as_string());
  }
  return true;
}

}  // namespace detail

// An HTTP-level failure: status code and the {"error": message} body.
struct http_error {
  int status;
  std::string message;
};

class http_server {
 public:
  http_server(asio::io_context& io, settings s, backend& b)
      : io_(io),
        settings_(std::move(s)),
        backend_(b),
        users_(settings_.users),
        sessions_(settings_.session_ttl),
        cors_(settings_.cors_origins),
        hub_(b, websocket_hub::limits{settings_.ws_max_pending_bytes, settings_.ws_max_clients}),
        worker_(io),
        alive_(std::make_shared<int>(0)) {
    limits_.per_user = rate_limiter(settings_.login_per_user, settings_.login_window);
    limits_.per_address = rate_limiter(settings_.login_per_address, settings_.login_window);
    web_dir_ = resolve_web_dir(settings_.web_dir);
    // A dummy hash with the same cost as real ones: an unknown user name costs as much as a wrong
    // password, so timing does not reveal which accounts exist.
    unsigned it = default_pbkdf2_iterations;
    for (const auto& u : settings_.users)
      if (auto h = parse_password_hash(u.password); h.valid()) it = h.iterations;
    dummy_hash_ = "pbkdf2:sha256:" + std::to_string(it) + "$AAAAAAAAAAAAAAAA$" + std::string(64, '0');
  }

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;
  ~http_server() { stop(); }

  // Binds every listener (call on the io thread or before io.run()). Errors: "tls" (certificate or
  // key missing/unreadable), "bind" (address in use, bad address).
  result<void> start() {
    // Two subscriptions: the hosts cache only needs to hear that a host changed, the WebSocket hub
    // needs payloads only while it has clients (so PLGs cost no JSON tree without a browser open).
    using bus::event_bit;
    using bus::event_kind;
    backend_.subscribe_kinds(
        [this, alive = std::weak_ptr<int>(alive_)](const bus::event&) {
          if (!alive.expired()) expire_hosts_cache();
        },
        event_bit(event_kind::host) | event_bit(event_kind::dropped), {});
    backend_.subscribe_kinds(
        [this, alive = std::weak_ptr<int>(alive_)](const bus::event& e) {
          if (!alive.expired()) hub_.publish(e, clock::wall_now());
        },
        event_bit(event_kind::host) | event_bit(event_kind::plugin) | event_bit(event_kind::message) |
            event_bit(event_kind::alert) | event_bit(event_kind::dropped),
        [this, alive = std::weak_ptr<int>(alive_)] { return !alive.expired() && hub_.size() > 0; });
    std::shared_ptr<asio::ssl::context> tls;
    if (settings_.wss_port) {
      auto t = make_tls_context();
      if (!t) return t.err();
      tls = std::move(*t);
    }
    try {
      http_ = open_plain(settings_.http_port, listener::http, http_port_);
      if (settings_.ws_enabled) ws_ = open_plain(settings_.ws_port, listener::ws, ws_port_);
      if (tls) wss_ = open_tls(*settings_.wss_port, tls, wss_port_);
    } catch (const std::exception& ex) {
      stop();
      return make_error("bind", std::string("cannot listen: ") + ex.what());
    }
    log::info(
        "api: HTTP on ", settings_.address, ":", http_port_, settings_.ws_enabled ? ", WebSocket on " : "",
        settings_.ws_enabled ? std::to_string(ws_port_) : std::string(),
        wss_ ? ", HTTPS/WSS on " + std::to_string(wss_port_) : std::string(),
        users_.enabled() ? " (users: " + std::to_string(users_.all().size()) + ")" : " (no users: open)",
        "; web UI from ", web_dir_);
    return {};
  }

  // Stops listening and drops WebSocket clients (synchronously, on the io thread).
  void stop() {
    hub_.close_all();
    auto close = [](auto& srv) {
      if (!srv) return;
      try {
        srv->close_sync();
      } catch (const std::exception& ex) {
        log::warn("api: closing a listener: ", ex.what());
      }
      srv.reset();
    };
    close(http_);
    close(ws_);
    close(wss_);
  }

  // SIGHUP: users, CORS origins and the session TTL follow the new configuration (ports and TLS
  // need a restart). Sessions of users that are gone stop working at once.
  void reload(const settings& s) {
    settings_.users = s.users;
    settings_.cors_origins = s.cors_origins;
    settings_.session_ttl = s.session_ttl;
    users_ = user_directory(s.users);
    expire_hosts_cache();
    cors_ = cors_policy(s.cors_origins);
    sessions_.set_ttl(s.session_ttl);
    log::info("api: reloaded (", users_.all().size(), " users)");
  }

  std::uint16_t http_port() const noexcept { return http_port_; }
  std::uint16_t ws_port() const noexcept { return ws_port_; }
  std::uint16_t wss_port() const noexcept { return wss_port_; }
  const user_directory& users() const noexcept { return users_; }
  websocket_hub& hub() noexcept { return hub_; }

  // API-side counters, appended to GET /metrics.
  void collect_own_metrics(metrics_writer& w) const {
    w.family("heartbeat_api_sessions", "gauge", "Live login sessions.");
    w.sample("heartbeat_api_sessions", {}, static_cast<double>(sessions_.size()));
    w.family("heartbeat_websocket_clients", "gauge", "Connected WebSocket clients.");
    w.sample("heartbeat_websocket_clients", {}, static_cast<double>(hub_.size()));
    w.family("heartbeat_websocket_messages_sent_total", "counter", "WebSocket messages queued to clients.");
    w.sample("heartbeat_websocket_messages_sent_total", {}, static_cast<double>(hub_.sent()));
    w.family("heartbeat_websocket_slow_clients_dropped_total", "counter",
             "WebSocket clients dropped because their send buffer was full.");
    w.sample("heartbeat_websocket_slow_clients_dropped_total", {}, static_cast<double>(hub_.slow_dropped()));
    w.family("heartbeat_api_logins_total", "counter", "Login attempts by result.");
    w.sample("heartbeat_api_logins_total", {{"result", "success"}}, static_cast<double>(logins_ok_));
    w.sample("heartbeat_api_logins_total", {{"result", "failure"}}, static_cast<double>(logins_failed_));
    w.sample("heartbeat_api_logins_total", {{"result", "rate_limited"}},
             static_cast<double>(logins_limited_));
    w.family("heartbeat_api_requests_total", "counter", "HTTP requests answered, by status class.");
    for (int i = 0; i < 5; ++i)
      w.sample("heartbeat_api_requests_total", {{"code", std::to_string(i + 1) + "xx"}},
               static_cast<double>(responses_[i]));
  }

 private:
  enum class listener : std::uint8_t { http, ws, wss };

  template <class Traits>
  using server_ptr = std::unique_ptr<restinio::http_server_t<Traits>>;

  // The authenticated caller of one request.
  struct principal {
    bool open = false;          // no users configured: may do everything
    const user* who = nullptr;  // set when authenticated
    std::string token;
    const session* sess = nullptr;
    bool via_cookie = false;
  };

  // ---- listeners -------------------------------------------------------------------------------

  template <class Traits>
  restinio::server_settings_t<Traits> base_settings(std::uint16_t port, std::uint16_t& actual) {
    restinio::server_settings_t<Traits> s;
    s.port(port)
        .address(settings_.address.empty() ? std::string("0.0.0.0") : settings_.address)
        .read_next_http_message_timelimit(std::chrono::seconds(60))
        .write_http_response_timelimit(std::chrono::seconds(30))
        .handle_request_timeout(std::chrono::seconds(30))
        .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}.max_body_size(1u << 20))
        .acceptor_post_bind_hook(
            [&actual](asio::ip::tcp::acceptor& a) { actual = a.local_endpoint().port(); });
    return s;
  }

  server_ptr<detail::plain_traits> open_plain(std::uint16_t port, listener kind, std::uint16_t& actual) {
    auto s = base_settings<detail::plain_traits>(port, actual);
    s.request_handler(
        [this, kind](detail::request_handle req) { return handle<detail::plain_traits>(req, kind); });
    auto srv = std::make_unique<restinio::http_server_t<detail::plain_traits>>(
        restinio::external_io_context(io_), std::move(s));
    srv->open_sync();
    return srv;
  }

  server_ptr<detail::tls_traits> open_tls(std::uint16_t port, std::shared_ptr<asio::ssl::context> ctx,
                                          std::uint16_t& actual) {
    auto s = base_settings<detail::tls_traits>(port, actual);
    s.tls_context(std::move(ctx));
    s.request_handler(
        [this](detail::request_handle req) { return handle<detail::tls_traits>(req, listener::wss); });
    auto srv = std::make_unique<restinio::http_server_t<detail::tls_traits>>(
        restinio::external_io_context(io_), std::move(s));
    srv->open_sync();
    return srv;
  }

  result<std::shared_ptr<asio::ssl::context>> make_tls_context() {
    namespace fs = std::filesystem;
    for (const auto* f : {&settings_.cert_file, &settings_.key_file}) {
      std::ifstream probe(*f);
      if (f->empty() || !probe)
        return make_error("tls", "wss_port is set but " +
                                     std::string(f == &settings_.cert_file ? "certificate" : "key") +
                                     " file '" + *f + "' is missing or unreadable");
    }
    try {
      auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
      ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
      ctx->use_certificate_chain_file(settings_.cert_file);
      ctx->use_private_key_file(settings_.key_file, asio::ssl::context::pem);
      return ctx;
    } catch (const std::exception& ex) {
      return make_error("tls", "cannot load certificate '" + settings_.cert_file + "' / key '" +
                                   settings_.key_file + "': " + ex.what());
    }
  }

  // ---- responses -------------------------------------------------------------------------------

  void count(int status) {
    int cls = status / 100 - 1;
    if (cls >= 0 && cls < 5) ++responses_[cls];
  }

  static restinio::http_status_line_t status_line(int code) {
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
      case 429: return restinio::status_too_many_requests();
      case 503: return restinio::status_service_unavailable();
      default: return restinio::status_internal_server_error();
    }
  }

  using extra_headers = std::vector<std::pair<std::string, std::string>>;

  restinio::request_handling_status_t reply(const detail::request_handle& req, int status, std::string body,
                                            std::string_view content_type, const extra_headers& extra = {}) {
    count(status);
    auto r = req->create_response(status_line(status));
    r.append_header(restinio::http_field::content_type, std::string(content_type));
    r.append_header("Cache-Control", "no-store");
    r.append_header("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : cors_.headers(req->header().get_field_or("Origin", ""), false))
      r.append_header(k, v);
    for (const auto& [k, v] : extra) r.append_header(k, v);
    r.set_body(std::move(body));
    r.done();
    return restinio::request_accepted();
  }

  restinio::request_handling_status_t reply_json(const detail::request_handle& req, int status,
                                                 const json::value& v, const extra_headers& extra = {}) {
    return reply(req, status, v.dump(), "application/json", extra);
  }

  restinio::request_handling_status_t reply_error(const detail::request_handle& req, int status,
                                                  std::string_view message, const extra_headers& extra = {}) {
    return reply_json(req, status, json::value::object({{"error", std::string(message)}}), extra);
  }

  restinio::request_handling_status_t reply_error(const detail::request_handle& req, const http_error& e) {
    return reply_error(req, e.status, e.message);
  }

  // A 200 JSON answer whose body is shared (not copied) with a cache.
  restinio::request_handling_status_t reply_shared(const detail::request_handle& req,
                                                   std::shared_ptr<const std::string> body, bool gzipped,
                                                   const extra_headers& extra = {}) {
    count(200);
    auto r = req->create_response(restinio::status_ok());
    r.append_header(restinio::http_field::content_type, "application/json");
    r.append_header("Vary", "Accept-Encoding");
    if (gzipped) r.append_header(restinio::http_field::content_encoding, "gzip");
    r.append_header("Cache-Control", "no-store");
    r.append_header("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : cors_.headers(req->header().get_field_or("Origin", ""), false))
      r.append_header(k, v);
    for (const auto& [k, v] : extra) r.append_header(k, v);
    r.set_body(restinio::writable_item_t{std::const_pointer_cast<std::string>(std::move(body))});
    r.done();
    return restinio::request_accepted();
  }

  // GET /api/0/hosts rendered at most once per `hosts_cache_ttl` per audience (everyone / one
  // user): with 10,000 hosts rendering costs tens of milliseconds on the io thread, and dashboards
  // poll. Host and drop events empty the cache, so state changes show at once. A client that
  // accepts gzip gets it compressed (about twentyfold smaller), compressed once per cache entry.
  std::pair<std::shared_ptr<const std::string>, bool> hosts_list(const principal& p, bool gzip) {
    std::string key = p.open || is_admin(p) ? std::string() : p.who->name;
    double now = clock::wall_now();
    auto it = hosts_cache_.find(key);
    if (it == hosts_cache_.end() ||
        !(now - it->second.at < settings_.hosts_cache_ttl && now >= it->second.at)) {
      // The list is tens of MB at 100,000 hosts: render into the previous body when no response
      // holds it any more (a fresh buffer costs its page faults again), else size a new one
      // from the last render instead of growing (and copying) it a dozen times.
      std::shared_ptr<std::string> out;
      if (it != hosts_cache_.end() && it->second.body.use_count() == 1) {
        out = std::const_pointer_cast<std::string>(std::move(it->second.body));
        out->clear();
      } else {
        out = std::make_shared<std::string>();
        out->reserve(hosts_render_size_ + hosts_render_size_ / 16);
      }
      backend_.write_hosts_json(*out, key.empty() ? nullptr : p.who);
      hosts_render_size_ = std::max(hosts_render_size_, out->size());
      if (hosts_cache_.size() > 1000) hosts_cache_.clear();
      it = hosts_cache_.insert_or_assign(key, cached{out, nullptr, now}).first;
    }
    if (!gzip || it->second.body->size() < 1400) return {it->second.body, false};
    if (!it->second.gz) it->second.gz = detail::gzip(*it->second.body);
    if (!it->second.gz) return {it->second.body, false};
    return {it->second.gz, true};
  }

  // A host changed: every cached list is out of date (their buffers stay for reuse).
  void expire_hosts_cache() {
    for (auto& [key, c] : hosts_cache_) c.at = -1;
  }

  // ---- authentication --------------------------------------------------------------------------

  principal authenticate(const detail::request_handle& req, bool allow_query_token) {
    principal p;
    if (!users_.enabled()) {
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
    const session* s = sessions_.find(token, clock::wall_now());
    if (!s) return p;
    const user* u = users_.find(s->user);
    if (!u) return p;
    p.who = u;
    p.sess = s;
    p.token = std::move(token);
    return p;
  }

  static bool authenticated(const principal& p) noexcept { return p.open || p.who; }

  role role_of(const principal& p, std::string_view host) const {
    if (p.open) return role::owner;
    if (!p.who) return role::none;
    if (p.who->admin) return role::owner;
    return role_on(*p.who, backend_.access(host));
  }

  bool is_admin(const principal& p) const noexcept { return p.open || (p.who && p.who->admin); }

  // Same-origin or allow-listed Origin header (absent is fine: not a browser cross-site request).
  bool origin_ok(const detail::request_handle& req) const {
    std::string origin = req->header().get_field_or("Origin", "");
    if (origin.empty() || origin == "null") return origin.empty();
    if (cors_.allows(origin)) return true;
    // Same host name, any port: the web UI on hbd_port may open the stream on ws_port.
    std::string host = req->header().get_field_or(restinio::http_field::host, "");
    auto scheme = origin.find("://");
    if (scheme == std::string::npos) return false;
    return strip_port(std::string_view(origin).substr(scheme + 3)) == strip_port(host);
  }

  static std::string_view strip_port(std::string_view hostport) {
    if (!hostport.empty() && hostport.front() == '[') {  // [v6]:port
      auto close = hostport.find(']');
      return close == std::string_view::npos ? hostport : hostport.substr(0, close + 1);
    }
    auto colon = hostport.rfind(':');
    return colon == std::string_view::npos ? hostport : hostport.substr(0, colon);
  }

  // ---- dispatch --------------------------------------------------------------------------------

  template <class Traits>
  restinio::request_handling_status_t handle(detail::request_handle req, listener kind) {
    try {
      return route<Traits>(req, kind);
    } catch (const std::exception& ex) {
      log::error("api: ", req->header().method().c_str(), " ", req->header().path(), ": ", ex.what());
      return reply_error(req, 500, "internal error");
    }
  }

  template <class Traits>
  restinio::request_handling_status_t route(const detail::request_handle& req, listener kind) {
    const auto& h = req->header();
    std::string_view method = h.method().c_str();
    auto segs_opt = detail::split_path(h.path());
    if (!segs_opt) return reply_error(req, 400, "malformed URL path");
    const auto& segs = *segs_opt;

    bool upgrade =
        restinio::impl::is_equal_caseless(h.get_field_or(restinio::http_field::upgrade, ""), "websocket");
    if (upgrade) {
      bool ws_path = (segs.size() == 1 && (segs[0] == "hbd" || segs[0] == "ws"));
      if (!ws_path) return reply_error(req, 404, "no WebSocket endpoint here");
      return websocket<Traits>(req);
    }
    if (kind == listener::ws)
      return reply_error(req, 404, "this port serves only the WebSocket stream at /hbd");

    if (method == "OPTIONS") {
      std::string origin = h.get_field_or("Origin", "");
      auto hs = cors_.headers(origin, true);
      if (hs.empty()) return reply_error(req, 403, "CORS origin not allowed");
      count(204);
      auto r = req->create_response(restinio::status_no_content());
      for (const auto& [k, v] : hs) r.append_header(k, v);
      r.done();
      return restinio::request_accepted();
    }

    if (segs.empty()) return redirect(req, "/live");
    if (segs[0] == "healthz" && segs.size() == 1)
      return reply_json(req, 200, json::value::object({{"status", "ok"}}));
    if (segs[0] == "metrics" && segs.size() == 1) return metrics(req);
    if (segs[0] == "api") {
      if (segs.size() < 2 || segs[1] != "0") return reply_error(req, 404, "unknown API version");
      return api(req, method, segs, kind);
    }
    if (segs[0] == "static") return static_file(req, segs);
    return page(req, segs);
  }

  restinio::request_handling_status_t redirect(const detail::request_handle& req, std::string location) {
    return reply(req, 302, "", "text/plain", {{"Location", std::move(location)}});
  }

  // ---- pages and static files ------------------------------------------------------------------

  restinio::request_handling_status_t page(const detail::request_handle& req,
                                           const std::vector<std::string>& segs) {
    std::string_view method = req->header().method().c_str();
    if (method != "GET" && method != "HEAD") return reply_error(req, 405, "method not allowed");
    std::string file;
    const std::string& p = segs[0];
    if (segs.size() == 1 &&
        (p == "live" || p == "alerts" || p == "settings" || p == "login" || p == "plugins"))
      file = p + ".html";
    else if (segs.size() == 2 && p == "plugins")
      file = std::filesystem::exists(std::filesystem::path(web_dir_) / "host.html") ? "host.html"
                                                                                    : "plugins.html";
    else if (segs.size() == 1 && p == "favicon.ico")
      return static_file(req, {"static", "favicon.ico"});
    else
      return reply_error(req, 404, "not found");
    if (p != "login" && users_.enabled() && !authenticated(authenticate(req, false))) {
      std::string target(req->header().path());
      return redirect(req, "/login?next=" + restinio::utils::escape_percent_encoding(target));
    }
    auto body = detail::read_file(std::filesystem::path(web_dir_) / file);
    if (!body) return reply_error(req, 404, "page '" + file + "' is not installed in " + web_dir_);
    return reply(req, 200, std::move(*body), "text/html; charset=utf-8",
                 {{"X-Frame-Options", "DENY"}, {"Referrer-Policy", "same-origin"}});
  }

  restinio::request_handling_status_t static_file(const detail::request_handle& req,
                                                  const std::vector<std::string>& segs) {
    std::string_view method = req->header().method().c_str();
    if (method != "GET" && method != "HEAD") return reply_error(req, 405, "method not allowed");
    namespace fs = std::filesystem;
    fs::path root = fs::path(web_dir_) / "static";
    std::error_code ec;
    if (!fs::is_directory(root, ec)) root = fs::path(web_dir_);
    auto file = detail::safe_join(root, segs, 1);
    if (!file) return reply_error(req, 404, "not found");
    auto body = detail::read_file(*file);
    if (!body) return reply_error(req, 404, "not found");
    count(200);
    auto r = req->create_response(restinio::status_ok());
    r.append_header(restinio::http_field::content_type,
                    std::string(detail::content_type_for(file->string())));
    // Revalidate every time: after an upgrade the pages must not run old scripts against the new API.
    r.append_header("Cache-Control", "no-cache");
    r.append_header("X-Content-Type-Options", "nosniff");
    r.set_body(std::move(*body));
    r.done();
    return restinio::request_accepted();
  }

  // ---- WebSocket -------------------------------------------------------------------------------

  template <class Traits>
  restinio::request_handling_status_t websocket(const detail::request_handle& req) {
    principal p = authenticate(req, true);
    if (!authenticated(p)) return reply_error(req, 401, "authentication required");
    if (!origin_ok(req)) return reply_error(req, 403, "cross-origin WebSocket not allowed");
    if (hub_.full()) return reply_error(req, 503, "too many WebSocket clients");
    websocket_hub::identity id;
    if (p.who) {
      id.who = *p.who;
      id.token = p.token;
      id.expires = p.sess->expires;
    }
    hub_.accept<Traits>(*req, std::move(id));
    return restinio::request_accepted();
  }

  // ---- metrics ---------------------------------------------------------------------------------

  restinio::request_handling_status_t metrics(const detail::request_handle& req) {
    principal p = authenticate(req, false);
    if (!authenticated(p)) return reply_error(req, 401, "authentication required");
    metrics_writer w;
    // Host series only for hosts the caller may see (as /api/0/hosts); server counters for everyone.
    backend_.collect_metrics(w, p.open || is_admin(p) ? nullptr : p.who);
    collect_own_metrics(w);
    return reply(req, 200, w.str(), "text/plain; version=0.0.4; charset=utf-8");
  }

  // ---- the JSON API ----------------------------------------------------------------------------

  restinio::request_handling_status_t api(const detail::request_handle& req, std::string_view method,
                                          const std::vector<std::string>& segs, listener kind) {
    // /api/0/<segs[2]>/...
    std::string_view what = segs.size() > 2 ? std::string_view(segs[2]) : std::string_view{};
    if (what == "auth" && segs.size() == 4 && segs[3] == "login") {
      if (method != "POST") return reply_error(req, 405, "use POST");
      if (!origin_ok(req)) return reply_error(req, 403, "cross-origin login not allowed");
      return login(req, kind == listener::wss);
    }

    principal p = authenticate(req, false);
    if (!authenticated(p)) return reply_error(req, 401, "authentication required");
    if (is_write_method(method) && !p.open) {
      if (!origin_ok(req)) return reply_error(req, 403, "cross-origin request not allowed");
      if (p.via_cookie && !csrf_ok(*p.sess, req->header().get_field_or("X-CSRF-Token", "")))
        return reply_error(req, 403, "missing or wrong X-CSRF-Token header");
    }

    if (what == "auth" && segs.size() == 4 && segs[3] == "logout") {
      if (method != "POST") return reply_error(req, 405, "use POST");
      return logout(req, p);
    }
    if (what == "me" && segs.size() == 3) {
      if (method != "GET") return reply_error(req, 405, "use GET");
      return me(req, p);
    }
    if (what == "hosts") return hosts(req, method, segs, p);
    if (what == "messages" && segs.size() == 3) {
      if (method != "GET") return reply_error(req, 405, "use GET");
      json::value all = backend_.messages();
      json::value out = json::value::array();
      for (const auto& m : all.as_array()) {
        const json::value* host = m.find("host");
        std::string_view hn =
            host && host->is_string() ? std::string_view(host->as_string()) : std::string_view{};
        if (p.open || is_admin(p) || (!hn.empty() && backend_.has_host(hn) && role_of(p, hn) != role::none))
          out.push_back(m);
      }
      return reply_json(req, 200, out);
    }
    if (what == "alerts" && segs.size() == 3) {
      if (method != "GET") return reply_error(req, 405, "use GET");
      return all_alerts(req, p);
    }
    if (what == "users") return users(req, method, segs, p);
    if (what == "stats" && segs.size() == 3) {
      if (method != "GET") return reply_error(req, 405, "use GET");
      return reply_json(req, 200, backend_.stats_json());
    }
    if (what == "config" && segs.size() == 3) {
      if (method != "GET") return reply_error(req, 405, "use GET");
      if (!is_admin(p)) return reply_error(req, 403, "the server configuration needs the admin flag");
      json::value c = backend_.config_json();
      if (c.is_null()) return reply_error(req, 404, "the configuration is not available");
      return reply_json(req, 200, c);
    }
    if (what == "maintenance" && segs.size() == 3) {
      if (method != "GET") return reply_error(req, 405, "use GET");
      auto visible = [&](std::string_view h) { return is_admin(p) || role_of(p, h) != role::none; };
      json::value m = backend_.maintenance_json(clock::wall_now(), visible);
      if (m.is_null()) return reply_error(req, 404, "maintenance windows are not available");
      return reply_json(req, 200, m);
    }
    if (what == "settings" && segs.size() == 3) {
      if (method != "GET") return reply_error(req, 405, "use GET");
      json::value s = backend_.settings_json();
      s.set("auth_enabled", users_.enabled());
      s.set("cors_origins", detail::string_array(settings_.cors_origins));
      s.set("session_ttl", settings_.session_ttl);
      return reply_json(req, 200, s);
    }
    return reply_error(req, 404, "unknown endpoint");
  }

  result<json::value> parse_body(const detail::request_handle& req) {
    const auto& body = req->body();
    if (body.size() > settings_.max_body_bytes) return make_error("too_large", "request body too large");
    std::string ct = req->header().get_field_or(restinio::http_field::content_type, "");
    if (!ct.empty() && ct.find("json") == std::string::npos)
      return make_error("bad_request", "Content-Type must be application/json");
    auto v = json::parse(body, json::parse_limits{16});
    if (!v) return make_error("bad_request", "request body is not valid JSON");
    if (!v->is_object()) return make_error("bad_request", "request body must be a JSON object");
    return v;
  }

  restinio::request_handling_status_t body_error(const detail::request_handle& req, const error& e) {
    return reply_error(req, e.code == "too_large" ? 413 : 400, e.message);
  }

  // ---- auth endpoints ----------------------------------------------------------------------------

  std::string cookie_attrs(bool http_only, double max_age) const {
    std::string a = "; Path=/; SameSite=Strict; Max-Age=" + std::to_string(static_cast<long long>(max_age));
    if (http_only) a += "; HttpOnly";
    return a;
  }

  restinio::request_handling_status_t login(const detail::request_handle& req, bool tls) {
    if (!users_.enabled())
      return reply_error(req, 400, "authentication is not enabled (no users configured)");
    auto body = parse_body(req);
    if (!body) return body_error(req, body.err());
    const json::value* un = body->find("username");
    const json::value* pw = body->find("password");
    if (!un || !un->is_string() || !pw || !pw->is_string() || un->as_string().empty())
      return reply_error(req, 400, "username and password (strings) are required");
    std::string name = un->as_string();
    if (name.size() > 256 || pw->as_string().size() > 4096)
      return reply_error(req, 400, "username or password too long");
    std::string address = req->remote_endpoint().address().to_string();
    double now = clock::wall_now();
    double wait = limits_.retry_after(address, name, now);
    if (wait > 0) {
      ++logins_limited_;
      long secs = static_cast<long>(std::ceil(wait));
      return reply_error(req, 429, "too many failed logins; retry in " + std::to_string(secs) + " s",
                         {{"Retry-After", std::to_string(secs)}});
    }
    const user* u = users_.find(name);
    std::string stored = u ? u->password : dummy_hash_;
    bool exists = u != nullptr;
    std::string password = pw->as_string();
    bool secure = tls || req->header().get_field_or("X-Forwarded-Proto", "") == "https";
    bool queued = worker_.submit(
        alive_, [password = std::move(password), stored]() { return verify_password(password, stored); },
        [this, req, name, address, exists, secure](bool ok) {
          finish_login(req, name, address, ok && exists, secure);
        });
    if (!queued) return reply_error(req, 503, "login service busy; retry shortly", {{"Retry-After", "1"}});
    return restinio::request_accepted();
  }

  void finish_login(const detail::request_handle& req, const std::string& name, const std::string& address,
                    bool ok, bool secure) {
    double now = clock::wall_now();
    const user* u = ok ? users_.find(name) : nullptr;  // the account may have gone meanwhile
    if (!u) {
      ++logins_failed_;
      limits_.failed(address, name, now);
      log::warn("api: failed login for '", name, "' from ", address);
      reply_error(req, 401, "invalid username or password");
      return;
    }
    limits_.succeeded(name);
    auto issued = sessions_.create(name, now);
    if (!issued) {
      reply_error(req, 500, issued.err().message);
      return;
    }
    ++logins_ok_;
    log::info("api: user '", name, "' logged in from ", address);
    std::string sec = secure ? "; Secure" : "";
    json::value out = json::value::object({{"token", issued->token},
                                           {"username", name},
                                           {"expires", issued->s.expires},
                                           {"csrf_token", issued->s.csrf}});
    reply_json(req, 200, out,
               {{"Set-Cookie", std::string(session_cookie) + "=" + issued->token +
                                   cookie_attrs(true, sessions_.ttl()) + sec},
                {"Set-Cookie", std::string(csrf_cookie) + "=" + issued->s.csrf +
                                   cookie_attrs(false, sessions_.ttl()) + sec}});
  }

  restinio::request_handling_status_t logout(const detail::request_handle& req, const principal& p) {
    if (!p.token.empty()) {
      sessions_.revoke(p.token);
      hub_.revoke(p.token, {});
      log::info("api: user '", p.who ? p.who->name : std::string(), "' logged out");
    }
    return reply_json(req, 200, json::value::object({{"status", "logged out"}}),
                      {{"Set-Cookie", std::string(session_cookie) + "=" + cookie_attrs(true, 0)},
                       {"Set-Cookie", std::string(csrf_cookie) + "=" + cookie_attrs(false, 0)}});
  }

  restinio::request_handling_status_t me(const detail::request_handle& req, const principal& p) {
    if (p.open)
      return reply_json(
          req, 200, json::value::object({{"auth_enabled", false}, {"username", nullptr}, {"admin", true}}));
    json::value out = user_json(*p.who);
    out.set("auth_enabled", true);
    out.set("csrf_token", p.sess->csrf);
    out.set("expires", p.sess->expires);
    return reply_json(req, 200, out);
  }

  // ---- hosts -------------------------------------------------------------------------------------

  // The host named in the URL if the caller may see it: 404 otherwise, as if absent.
  std::optional<http_error> visible(const principal& p, const std::string& host, role& r) const {
    if (!backend_.has_host(host)) return http_error{404, "Host '" + host + "' not found"};
    r = role_of(p, host);
    if (r == role::none) return http_error{404, "Host '" + host + "' not found"};
    return std::nullopt;
  }

  static std::optional<http_error> need(role have, role want, const char* what) {
    if (have >= want) return std::nullopt;
    return http_error{403, std::string(what) + " needs the " + to_string(want) + " role on this host"};
  }

  restinio::request_handling_status_t hosts(const detail::request_handle& req, std::string_view method,
                                            const std::vector<std::string>& segs, const principal& p) {
    if (segs.size() == 3) {
      if (method != "GET") return reply_error(req, 405, "use GET");
      // ?limit=&offset=: one page of the list (by name), with the whole count in X-Total-Count.
      auto qp = restinio::try_parse_query<restinio::parse_query_traits::javascript_compatible>(
          req->header().query());
      if (!qp) return reply_error(req, 400, "malformed query string");
      if (qp->has("limit") || qp->has("offset")) {
        std::size_t limit = std::numeric_limits<std::size_t>::max(), offset = 0;
        if (qp->has("limit")) {
          auto l = detail::parse_limit(qp->get_param("limit").value_or(""), 1000000);
          if (!l) return reply_error(req, 400, "limit must be a positive integer");
          limit = *l;
        }
        if (qp->has("offset")) {
          auto o = detail::parse_count(qp->get_param("offset").value_or(""));
          if (!o) return reply_error(req, 400, "offset must be a non-negative integer");
          offset = *o;
        }
        auto page = std::make_shared<std::string>();
        std::size_t total =
            backend_.write_hosts_page(*page, p.open || is_admin(p) ? nullptr : p.who, offset, limit);
        return reply_shared(req, std::move(page), false, {{"X-Total-Count", std::to_string(total)}});
      }
      std::string ae = req->header().get_field_or(restinio::http_field::accept_encoding, "");
      auto [body, gz] = hosts_list(p, ae.find("gzip") != std::string::npos);
      return reply_shared(req, std::move(body), gz);
    }
    const std::string& host = segs[3];
    role r = role::none;
    if (auto e = visible(p, host, r)) return reply_error(req, *e);
    if (segs.size() == 4) {
      if (method == "GET") {
        std::string out;
        backend_.write_host_json(out, host);
        return reply(req, 200, std::move(out), "application/json");
      }
      if (method == "DELETE") {
        if (auto e = need(r, role::owner, "dropping a host")) return reply_error(req, *e);
        auto res = backend_.drop_host(host);
        if (!res) return backend_error(req, res.err());
        log::info("api: host '", host, "' dropped by ", who(p));
        return reply_json(req, 200, json::value::object({{"status", "dropped"}, {"hostname", host}}));
      }
      return reply_error(req, 405, "use GET or DELETE");
    }
    const std::string& sub = segs[4];
    if (sub == "plugins") {
      if (method != "GET") return reply_error(req, 405, "use GET");
      if (segs.size() == 5)
        return reply_json(
            req, 200, json::value::object({{"hostname", host}, {"plugins", backend_.plugins_json(host)}}));
      if (segs.size() != 6) return reply_error(req, 404, "unknown endpoint");
      return plugin_history(req, host, segs[5]);
    }
    if (sub == "alerts" && segs.size() == 6 && segs[5] == "ack") {  // ==== ALERT: acknowledgement
      if (method != "POST") return reply_error(req, 405, "use POST");
      if (auto e = need(r, role::manager, "acknowledging an alert")) return reply_error(req, *e);
      auto body = parse_body(req);
      if (!body) return body_error(req, body.err());
      const json::value* mp = body->find("metric_path");
      if (!mp || !mp->is_string() || mp->as_string().empty())
        return reply_error(req, 400, "\"metric_path\" (a non-empty string) is required");
      auto res = backend_.ack_alert(host, mp->as_string(), actor_name(p));
      if (!res) return backend_error(req, res.err());
      log::info("api: alert ", mp->as_string(), " on '", host, "' acknowledged by ", who(p));
      return reply_json(req, 200, *res);
    }
    if (segs.size() != 5) return reply_error(req, 404, "unknown endpoint");
    if (sub == "alerts") {
      if (method != "GET") return reply_error(req, 405, "use GET");
      return host_alerts(req, host);
    }
    if (sub == "access") return access(req, method, host, r, p);
    if (sub == "commands") {
      if (method != "POST") return reply_error(req, 405, "use POST");
      if (auto e = need(r, role::manager, "queueing a command")) return reply_error(req, *e);
      auto body = parse_body(req);
      if (!body) return body_error(req, body.err());
      const json::value* cmd = body->find("command");
      if (!cmd || !cmd->is_string() || cmd->as_string().empty() || cmd->as_string().size() > 256)
        return reply_error(req, 400, "\"command\" (a non-empty string) is required");
      json::value args = json::value::array();
      std::vector<std::string> arg_list;
      if (const json::value* a = body->find("args")) {
        if (!a->is_array() && !a->is_null())
          return reply_error(req, 400, "\"args\" must be a list of strings");
        if (a->is_array()) {
          if (a->size() > 64) return reply_error(req, 400, "\"args\": at most 64 arguments");
          for (const auto& x : a->as_array()) {
            if (!x.is_string()) return reply_error(req, 400, "\"args\" must be a list of strings");
            arg_list.push_back(x.as_string());
          }
          args = *a;
        }
      }
      auto id = backend_.queue_command(host, cmd->as_string(), arg_list, actor_name(p));
      if (!id) return backend_error(req, id.err());
      log::info("api: command '", cmd->as_string(), "' queued for '", host, "' by ", who(p));
      return reply_json(req, 200,
                        json::value::object({{"id", *id},
                                             {"hostname", host},
                                             {"command", cmd->as_string()},
                                             {"args", std::move(args)},
                                             {"status", "queued"}}));
    }
    if (sub == "upgrade") {
      if (method != "POST") return reply_error(req, 405, "use POST");
      if (auto e = need(r, role::manager, "queueing an upgrade")) return reply_error(req, *e);
      auto body = parse_body(req);
      if (!body) return body_error(req, body.err());
      std::string version;
      if (const json::value* v = body->find("version")) {
        if (!v->is_string() && !v->is_null()) return reply_error(req, 400, "\"version\" must be a string");
        if (v->is_string()) version = v->as_string();
      }
      if (version.size() > 64) return reply_error(req, 400, "\"version\" too long");
      auto id = backend_.queue_upgrade(host, version, actor_name(p));
      if (!id) return backend_error(req, id.err());
      log::info("api: upgrade queued for '", host, "' by ", who(p));
      return reply_json(
          req, 200,
          json::value::object({{"id", *id}, {"hostname", host}, {"version", version}, {"status", "queued"}}));
    }
    if (sub == "dns") {
      if (method != "POST") return reply_error(req, 405, "use POST");
      if (auto e = need(r, role::manager, "triggering a DNS update")) return reply_error(req, *e);
      auto res = backend_.request_dns(host);
      if (!res) return backend_error(req, res.err());
      return reply_json(req, 200, json::value::object({{"hostname", host}, {"status", "requested"}}));
    }
    return reply_error(req, 404, "unknown endpoint");
  }

  static std::string actor_name(const principal& p) { return p.who ? p.who->name : std::string("anonymous"); }
  static std::string who(const principal& p) {
    return p.who ? "'" + p.who->name + "'" : std::string("anonymous");
  }

  restinio::request_handling_status_t backend_error(const detail::request_handle& req, const error& e) {
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

  restinio::request_handling_status_t plugin_history(const detail::request_handle& req,
                                                     const std::string& host, const std::string& plugin) {
    std::size_t limit = 10;
    auto qp =
        restinio::try_parse_query<restinio::parse_query_traits::javascript_compatible>(req->header().query());
    if (!qp) return reply_error(req, 400, "malformed query string");
    if (qp->has("limit")) {
      auto l = detail::parse_limit(qp->get_param("limit").value_or(""), 10000);
      if (!l) return reply_error(req, 400, "limit must be a positive integer");
      limit = *l;
    }
    // ?since=&until=: Unix seconds (fractions allowed), both optional and inclusive.
    double since = 0, until = std::numeric_limits<double>::max();
    for (auto [key, out] : {std::pair{"since", &since}, std::pair{"until", &until}}) {
      if (!qp->has(key)) continue;
      auto t = detail::parse_time(qp->get_param(key).value_or(""));
      if (!t) return reply_error(req, 400, std::string(key) + " must be a Unix time in seconds");
      *out = *t;
    }
    if (since > until) return reply_error(req, 400, "since must not be after until");
    std::weak_ptr<int> alive = alive_;
    backend_.plugin_history_range(
        host, plugin, since, until, limit, [this, alive, req, host, plugin](result<json::value> r) {
          if (alive.expired()) return;
          try {
            if (!r) {
              if (r.err().code == "not_found")
                reply_error(req, 404, "Plugin '" + plugin + "' not found for host '" + host + "'");
              else
                reply_error(req, 500, r.err().message);
              return;
            }
            std::size_t n = r->size();
            reply_json(req, 200,
                       json::value::object({{"hostname", host},
                                            {"plugin", plugin},
                                            {"samples", std::move(*r)},
                                            {"sample_count", n}}));
          } catch (const std::exception& ex) {
            log::error("api: history reply: ", ex.what());
          }
        });
    return restinio::request_accepted();
  }

  restinio::request_handling_status_t host_alerts(const detail::request_handle& req,
                                                  const std::string& host) {
    return reply_json(req, 200, backend_.host_alerts(host));
  }

  restinio::request_handling_status_t all_alerts(const detail::request_handle& req, const principal& p) {
    std::size_t host_count = 0;
    for (const auto& name : backend_.host_names())
      if (p.open || role_of(p, name) != role::none) ++host_count;
    auto visible = [&](std::string_view h) { return p.open || role_of(p, h) != role::none; };
    return reply_json(req, 200, backend_.all_alerts(host_count, visible));
  }

  static json::value access_json(const host_access& a) {
    return json::value::object({{"owner", a.owner.empty() ? json::value(nullptr) : json::value(a.owner)},
                                {"managers", detail::string_array(a.managers)},
                                {"monitors", detail::string_array(a.monitors)}});
  }

  restinio::request_handling_status_t access(const detail::request_handle& req, std::string_view method,
                                             const std::string& host, role r, const principal& p) {
    if (method == "GET") {
      if (auto e = need(r, role::owner, "viewing access")) return reply_error(req, *e);
      json::value out = access_json(backend_.access(host));
      out.set("hostname", host);
      return reply_json(req, 200, out);
    }
    if (method != "PUT") return reply_error(req, 405, "use GET or PUT");
    if (auto e = need(r, role::owner, "changing access")) return reply_error(req, *e);
    auto body = parse_body(req);
    if (!body) return body_error(req, body.err());
    host_access cur = backend_.access(host);
    host_access next = cur;
    if (const json::value* o = body->find("owner")) {
      if (o->is_null())
        next.owner.clear();
      else if (!o->is_string() || !valid_user_name(o->as_string()))
        return reply_error(req, 400, "\"owner\" must be a user name or null");
      else
        next.owner = o->as_string();
    }
    if (body->find("managers")) {
      next.managers.clear();
      if (!detail::read_names(*body, "managers", next.managers))
        return reply_error(req, 400, "\"managers\" must be a list of user names");
    }
    if (body->find("monitors")) {
      next.monitors.clear();
      if (!detail::read_names(*body, "monitors", next.monitors))
        return reply_error(req, 400, "\"monitors\" must be a list of user names");
    }
    if (users_.enabled()) {
      auto known = [&](const std::string& n) { return users_.find(n) != nullptr; };
      if (!next.owner.empty() && !known(next.owner))
        return reply_error(req, 400, "unknown user '" + next.owner + "'");
      for (const auto* l : {&next.managers, &next.monitors})
        for (const auto& n : *l)
          if (!known(n)) return reply_error(req, 400, "unknown user '" + n + "'");
    }
    expire_hosts_cache();
    auto res = backend_.set_access(host, next);
    if (!res) return backend_error(req, res.err());
    log::info("api: access of '", host, "' changed by ", who(p));
    json::value out = access_json(backend_.access(host));
    out.set("hostname", host);
    return reply_json(req, 200, out);
  }

  // ---- users (admin) -------------------------------------------------------------------------------

  restinio::request_handling_status_t users(const detail::request_handle& req, std::string_view method,
                                            const std::vector<std::string>& segs, const principal& p) {
    if (!is_admin(p)) return reply_error(req, 403, "user management needs the admin flag");
    if (segs.size() == 3) {
      if (method == "GET") {
        json::value out = json::value::array();
        for (const auto& [n, u] : users_.all()) out.push_back(user_json(u));
        return reply_json(req, 200, out);
      }
      if (method == "POST") return user_write(req, std::nullopt, p);
      return reply_error(req, 405, "use GET or POST");
    }
    if (segs.size() != 4) return reply_error(req, 404, "unknown endpoint");
    const std::string& name = segs[3];
    const user* u = users_.find(name);
    if (!u) return reply_error(req, 404, "User '" + name + "' not found");
    if (method == "GET") return reply_json(req, 200, user_json(*u));
    if (method == "PUT") return user_write(req, name, p);
    if (method == "DELETE") {
      if (p.who && p.who->name == name) return reply_error(req, 409, "you cannot delete your own account");
      std::size_t admins = 0;
      for (const auto& [n, x] : users_.all()) admins += x.admin;
      if (u->admin && admins == 1) return reply_error(req, 409, "cannot delete the last admin");
      users_.erase(name);
      sessions_.revoke_user(name);
      hub_.revoke({}, name);
      backend_.users_changed(users_);
      log::info("api: user '", name, "' deleted by ", who(p));
      return reply_json(req, 200, json::value::object({{"status", "deleted"}, {"username", name}}));
    }
    return reply_error(req, 405, "use GET, PUT or DELETE");
  }

  // Creates (name empty) or updates a user from the body; hashes a plain password on the worker.
  restinio::request_handling_status_t user_write(const detail::request_handle& req,
                                                 std::optional<std::string> name, const principal& p) {
    auto body = parse_body(req);
    if (!body) return body_error(req, body.err());
    user u;
    if (name) {
      u = *users_.find(*name);
    } else {
      const json::value* n = body->find("username");
      if (!n || !n->is_string() || !valid_user_name(n->as_string()))
        return reply_error(req, 400, "\"username\" is required (letters, digits, _ - . @; up to 64)");
      if (users_.find(n->as_string()))
        return reply_error(req, 409, "User '" + n->as_string() + "' already exists");
      u.name = n->as_string();
    }
    auto str = [&](const char* key, std::string& out) -> bool {
      const json::value* v = body->find(key);
      if (!v) return true;
      if (!v->is_string() || v->as_string().size() > 1024) return false;
      out = v->as_string();
      return true;
    };
    if (!str("full_name", u.full_name)) return reply_error(req, 400, "\"full_name\" must be a string");
    if (!str("avatar", u.avatar)) return reply_error(req, 400, "\"avatar\" must be a string");
    if (const json::value* a = body->find("admin")) {
      if (!a->is_bool()) return reply_error(req, 400, "\"admin\" must be true or false");
      if (name && p.who && p.who->name == *name && !a->as_bool())
        return reply_error(req, 409, "you cannot remove your own admin flag");
      u.admin = a->as_bool();
    }
    if (body->find("notification_channels")) {
      std::vector<std::string> ch;
      const json::value* c = body->find("notification_channels");
      if (!c->is_array()) return reply_error(req, 400, "\"notification_channels\" must be a list of strings");
      for (const auto& x : c->as_array()) {
        if (!x.is_string())
          return reply_error(req, 400, "\"notification_channels\" must be a list of strings");
        ch.push_back(x.as_string());
      }
      u.notification_channels = std::move(ch);
    }
    std::string plain;
    const json::value* pw = body->find("password");
    const json::value* ph = body->find("password_hash");
    if (pw) {
      if (!pw->is_string() || pw->as_string().size() < 8 || pw->as_string().size() > 4096)
        return reply_error(req, 400, "\"password\" must be a string of 8 to 4096 characters");
      plain = pw->as_string();
    } else if (ph) {
      if (!ph->is_string() || !parse_password_hash(ph->as_string()).valid())
        return reply_error(req, 400,
                           "\"password_hash\" must be a pbkdf2:sha256:<iterations>$<salt>$<hash> string");
      u.password = ph->as_string();
    } else if (!name) {
      return reply_error(req, 400, "\"password\" is required for a new user");
    }
    bool created = !name;
    std::string actor = who(p);
    if (plain.empty()) {
      store_user(req, std::move(u), created, actor, false);
      return restinio::request_accepted();
    }
    bool queued = worker_.submit(
        alive_, [plain = std::move(plain)]() { return hash_password(plain); },
        [this, req, u, created, actor](result<std::string> h) mutable {
          if (!h) {
            reply_error(req, 500, h.err().message);
            return;
          }
          u.password = std::move(*h);
          store_user(req, std::move(u), created, actor, true);
        });
    if (!queued) return reply_error(req, 503, "busy; retry shortly", {{"Retry-After", "1"}});
    return restinio::request_accepted();
  }

  void store_user(const detail::request_handle& req, user u, bool created, const std::string& actor,
                  bool password_changed) {
    if (created && users_.find(u.name)) {
      reply_error(req, 409, "User '" + u.name + "' already exists");
      return;
    }
    if (!created && !users_.find(u.name)) {
      reply_error(req, 404, "User '" + u.name + "' not found");
      return;
    }
    if (password_changed && !created) {
      sessions_.revoke_user(u.name);
      hub_.revoke({}, u.name);
    }
    json::value out = user_json(u);
    std::string name = u.name;
    users_.upsert(std::move(u));
    backend_.users_changed(users_);
    log::info("api: user '", name, "' ", created ? "created" : "updated", " by ", actor);
    reply_json(req, created ? 201 : 200, out);
  }

  // ---- state -----------------------------------------------------------------------------------

  asio::io_context& io_;
  settings settings_;
  backend& backend_;
  user_directory users_;
  session_store sessions_;
  login_limits limits_;
  cors_policy cors_;
  websocket_hub hub_;
  detail::worker worker_;
  std::shared_ptr<int> alive_;  // handlers posted back from the worker check it before touching `this`
  std::string web_dir_;
  std::string dummy_hash_;
  server_ptr<detail::plain_traits> http_;
  server_ptr<detail::plain_traits> ws_;
  server_ptr<detail::tls_traits> wss_;
  std::uint16_t http_port_ = 0, ws_port_ = 0, wss_port_ = 0;
  std::uint64_t logins_ok_ = 0, logins_failed_ = 0, logins_limited_ = 0;
  struct cached {
    std::shared_ptr<const std::string> body;
    std::shared_ptr<const std::string> gz;  // made by the first request that accepts gzip
    double at = 0;
  };
  std::unordered_map<std::string, cached> hosts_cache_;
  std::size_t hosts_render_size_ = 0;  // largest /api/0/hosts body rendered so far
  std::uint64_t responses_[5] = {0, 0, 0, 0, 0};
};

}  // namespace heartbeat::api
