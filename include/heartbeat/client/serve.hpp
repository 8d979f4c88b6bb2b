// The optional `serve:` endpoint (the plugincore idea on the client): a tiny
// HTTP/1.1 server on Asio that answers GET /<plugin> with that plugin's latest
// data as JSON, GET / with the plugin list and GET /metrics with every numeric
// value in Prometheus text format; API-key auth (X-API-Key, Authorization:
// Bearer, or ?apikey=) and a CORS allow-list. One request per connection, 8 KiB
// request limit, 5 s timeout. RESTinio is not used: it would add http_parser,
// fmt and ~1 MiB of code to a client whose whole HTTP need is three GET routes.
// Runs on hbc's single io_context thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/client/config.hpp"
#include "heartbeat/client/scheduler.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::client {

struct http_request {
  std::string method, target, path, query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  const std::string* header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return &v;
    return nullptr;
  }
};

// Parses the request line and headers (everything before the blank line).
inline std::optional<http_request> parse_http_head(std::string_view head) {
  http_request r;
  std::size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1 || !line.substr(sp2 + 1).starts_with("HTTP/1."))
    return std::nullopt;
  r.method = std::string(line.substr(0, sp1));
  r.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
  while (!rest.empty()) {
    std::size_t e = rest.find("\r\n");
    std::string_view h = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 2);
    auto colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(h.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view v = h.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    r.headers.emplace_back(std::move(name), std::string(v));
  }
  return r;
}

// The value of `key` in a query string (no percent-decoding: API keys are plain).
inline std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    auto eq = kv.find('=');
    if (kv.substr(0, eq) == key) return std::string(eq == std::string_view::npos ? "" : kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

inline bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

// Prometheus metric name part: [a-zA-Z0-9_] only.
inline std::string prom_name(std::string_view s) {
  std::string o;
  for (char c : s) o.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return o;
}

inline void prom_escape_label(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
}

// Every numeric (and boolean) leaf of `data` as
// hbc_plugin_value{plugin="cpu_monitor",metric="partitions./.percent"} 45.2
inline void prometheus_leaves(std::string& out, std::string_view plugin, const json::value& v,
                              std::string& path) {
  if (v.is_object()) {
    for (const auto& [k, c] : v.as_object()) {
      std::size_t len = path.size();
      if (!path.empty()) path.push_back('.');
      path += k;
      prometheus_leaves(out, plugin, c, path);
      path.resize(len);
    }
    return;
  }
  if (!v.is_number() && !v.is_bool()) return;
  out += "hbc_plugin_value{plugin=\"";
  prom_escape_label(out, plugin);
  out += "\",metric=\"";
  prom_escape_label(out, path);
  out += "\"} ";
  json::write_number(out, v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_number());
  out.push_back('\n');
}

class http_endpoint {
 public:
  http_endpoint(asio::any_io_executor ex, const serve_config& cfg, const scheduler& s)
      : ex_(std::move(ex)), cfg_(cfg), sched_(s), acceptor_(ex_) {}

  // Binds (errors are returned, not thrown) and starts accepting.
  result<unsigned> start() {
    asio::error_code ec;
    auto addr = asio::ip::make_address(cfg_.listen, ec);
    if (ec) return make_error("serve", "serve.listen: not an IP address: " + cfg_.listen);
    asio::ip::tcp::endpoint ep(addr, static_cast<unsigned short>(cfg_.port));
    acceptor_.open(ep.protocol(), ec);
    net::close_on_exec(acceptor_);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(64, ec);
    if (ec)
      return make_error("serve", "serve: cannot listen on " + cfg_.listen + " port " +
                                     std::to_string(cfg_.port) + ": " + ec.message());
    unsigned port = acceptor_.local_endpoint().port();
    log::info("serve: listening on http://", cfg_.listen, ":", port,
              cfg_.api_key.empty() ? "" : " (API key required)");
    net::spawn(ex_, accept_loop(), "serve");
    return port;
  }
  void stop() {
    asio::error_code ec;
    acceptor_.close(ec);
  }

  // The response to one request (public for unit tests).
  struct response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
  };

  response handle(const http_request& req) const {
    response res;
    if (const std::string* origin = req.header("origin")) {
      for (const auto& o : cfg_.cors_origins)
        if (o == "*" || o == *origin) {
          res.headers.emplace_back("Access-Control-Allow-Origin", o == "*" ? "*" : *origin);
          res.headers.emplace_back("Vary", "Origin");
          break;
        }
    }
    if (req.method == "OPTIONS") {
      res.status = 204;
      res.headers.emplace_back("Access-Control-Allow-Methods", "GET, OPTIONS");
      res.headers.emplace_back("Access-Control-Allow-Headers", "X-API-Key, Authorization");
      return res;
    }
    if (req.method != "GET") return error(405, "method not allowed", std::move(res));
    if (!authorized(req)) return error(401, "missing or wrong API key", std::move(res));
    if (req.path == "/metrics") {
      res.content_type = "text/plain; version=0.0.4";
      res.body = "# TYPE hbc_plugin_value gauge\n";
      std::string path;
      for (const auto& p : sched_.plugins()) {
        if (p->latest.empty()) continue;
        auto v = json::parse(p->latest);
        if (v) prometheus_leaves(res.body, p->name, *v, path);
      }
      res.body += "# TYPE hbc_plugin_collects_total counter\n";
      for (const auto& p : sched_.plugins())
        res.body +=
            "hbc_plugin_collects_total{plugin=\"" + p->name + "\"} " + std::to_string(p->collects) + "\n";
      res.body += "# TYPE hbc_plugin_errors_total counter\n";
      for (const auto& p : sched_.plugins())
        res.body += "hbc_plugin_errors_total{plugin=\"" + p->name + "\"} " + std::to_string(p->errors) + "\n";
      return res;
    }
    if (req.path == "/") {
      json::value list = json::value::array();
      for (const auto& p : sched_.plugins()) {
        json::value e = json::value::object();
        e.set("name", p->name);
        e.set("type", p->type);
        e.set("kind", to_string(p->kind));
        e.set("active", p->active);
        list.push_back(std::move(e));
      }
      json::value body = json::value::object();
      body.set("plugins", std::move(list));
      res.body = body.dump();
      return res;
    }
    std::string_view name = std::string_view(req.path).substr(1);
    for (const auto& p : sched_.plugins()) {
      if (p->name != name) continue;
      if (p->latest.empty()) return error(404, "no data collected yet", std::move(res));
      res.body = "{\"plugin\":";
      json::write_string(res.body, p->name);
      res.body += ",\"ts\":";
      json::write_number(res.body, p->latest_ts);
      res.body += ",\"data\":" + p->latest + "}";
      return res;
    }
    return error(404, "no such plugin", std::move(res));
  }

 private:
  asio::any_io_executor ex_;
  const serve_config& cfg_;
  const scheduler& sched_;
  asio::ip::tcp::acceptor acceptor_;

  static response error(int status, std::string_view msg, response res) {
    res.status = status;
    json::value b = json::value::object();
    b.set("error", msg);
    res.body = b.dump();
    res.content_type = "application/json";
    return res;
  }

  bool authorized(const http_request& req) const {
    if (cfg_.api_key.empty()) return true;
    std::string given;
    if (const std::string* h = req.header("x-api-key"))
      given = *h;
    else if (const std::string* a = req.header("authorization"); a && a->starts_with("Bearer "))
      given = a->substr(7);
    else if (auto q = query_param(req.query, "apikey"))
      given = *q;
    return equal_constant_time(given, cfg_.api_key);
  }

  static const char* reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 204: return "No Content";
      case 400: return "Bad Request";
      case 401: return "Unauthorized";
      case 404: return "Not Found";
      case 405: return "Method Not Allowed";
      case 431: return "Request Header Fields Too Large";
      default: return "Error";
    }
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(net::as_tuple_awaitable);
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      if (ec) continue;
      net::close_on_exec(sock);
      net::spawn(ex_, serve_one(std::move(sock)), "serve");
    }
  }

  net::awaitable<void> serve_one(asio::ip::tcp::socket sock) {
    std::string buf;
    auto read_head = [](asio::ip::tcp::socket& s, std::string& b) -> net::awaitable<bool> {
      char chunk[2048];
      while (b.find("\r\n\r\n") == std::string::npos) {
        if (b.size() > 8192) co_return false;
        auto [ec, n] = co_await s.async_read_some(asio::buffer(chunk), net::as_tuple_awaitable);
        if (ec) co_return false;
        b.append(chunk, n);
      }
      co_return true;
    };
    auto got = co_await net::with_timeout(read_head(sock, buf), std::chrono::seconds(5));
    response res;
    if (!got) co_return;  // timed out: just close
    std::optional<http_request> req;
    if (*got) req = parse_http_head(std::string_view(buf).substr(0, buf.find("\r\n\r\n")));
    if (!*got)
      res = error(431, "request too large", {});
    else if (!req)
      res = error(400, "bad request", {});
    else
      res = handle(*req);
    std::string out = "HTTP/1.1 " + std::to_string(res.status) + " " + reason(res.status) + "\r\n";
    if (res.status != 204) {
      out += "Content-Type: " + res.content_type + "\r\n";
      out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
    }
    for (const auto& [k, v] : res.headers) out += k + ": " + v + "\r\n";
    out += "Connection: close\r\n\r\n";
    if (res.status != 204 && !(req && req->method == "HEAD")) out += res.body;
    co_await net::with_timeout(
        [](asio::ip::tcp::socket& s, std::string& o) -> net::awaitable<void> {
          auto [ec, n] = co_await asio::async_write(s, asio::buffer(o), net::as_tuple_awaitable);
          (void)ec;
          (void)n;
        }(sock, out),
        std::chrono::seconds(5));
    asio::error_code ec;
    sock.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }
};

}  // namespace heartbeat::client
