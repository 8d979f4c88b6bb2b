// The checks every HTTP request passes before any route sees it (dispatch() in routes.hpp calls
// http_guard::check), open mode included: the Host header must name this server (421: no DNS
// rebinding), bodies are bounded (413), a write carrying an Origin must come from this server or
// cors_origins (403: no cross-site writes) and a POST/PUT/PATCH body must be declared JSON (415: a
// cross-site page cannot send that without a CORS preflight). Also the keys behind them
// (http_hosts, trusted_proxies, http_max_*, http_header_timeout) and which peers' X-Forwarded-*
// headers are believed. Built on the main thread, used on the io thread.
#pragma once

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::api {

struct http_guard_config {
  std::vector<std::string> http_hosts;       // extra names the Host header may carry
  std::vector<std::string> trusted_proxies;  // addresses or CIDR blocks whose X-Forwarded-* count
  std::size_t max_connections = 4096;        // over every listener
  std::size_t max_connections_per_ip = 64;   // from one client address
  std::size_t max_body = 1u << 20;           // bytes of a request body (413 beyond)
  double header_timeout = 10;                // seconds for a whole request to arrive
};

// One address or CIDR block (v4 or v6), e.g. "10.0.0.0/8", "::1".
struct net_block {
  int family = 0;  // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> addr{};
  unsigned prefix = 0;

  static std::optional<net_block> parse(std::string_view text) {
    net_block b;
    std::string s(text);
    std::optional<unsigned> prefix;
    if (auto slash = s.find('/'); slash != std::string::npos) {
      std::string p = s.substr(slash + 1);
      s.resize(slash);
      if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
      prefix = static_cast<unsigned>(std::stoul(p));
    }
    if (::inet_pton(AF_INET, s.c_str(), b.addr.data()) == 1)
      b.family = AF_INET;
    else if (::inet_pton(AF_INET6, s.c_str(), b.addr.data()) == 1)
      b.family = AF_INET6;
    else
      return std::nullopt;
    unsigned bits = b.family == AF_INET ? 32 : 128;
    b.prefix = prefix.value_or(bits);
    if (b.prefix > bits) return std::nullopt;
    return b;
  }

  // `a` in binary (4 or 16 bytes, per `fam`); a v4-mapped v6 address also matches a v4 block.
  bool contains(int fam, const std::uint8_t* a) const {
    static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (fam == AF_INET6 && family == AF_INET && std::memcmp(a, mapped, 12) == 0) {
      fam = AF_INET;
      a += 12;
    }
    if (fam != family) return false;
    unsigned full = prefix / 8, rest = prefix % 8;
    if (std::memcmp(a, addr.data(), full) != 0) return false;
    if (!rest) return true;
    std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (a[full] & mask) == (addr[full] & mask);
  }
  bool contains(std::string_view text) const {
    std::array<std::uint8_t, 16> a{};
    std::string s(text);
    if (::inet_pton(AF_INET, s.c_str(), a.data()) == 1) return contains(AF_INET, a.data());
    if (::inet_pton(AF_INET6, s.c_str(), a.data()) == 1) return contains(AF_INET6, a.data());
    return false;
  }
};

// Reads the keys from the top-level mapping (hbd/config.hpp), with key-path diagnostics.
inline http_guard_config read_http_guard(config::object_reader& r) {
  http_guard_config g;
  r.get("http_hosts", g.http_hosts);
  for (std::size_t i = 0; i < g.http_hosts.size(); ++i)
    if (g.http_hosts[i].empty() || g.http_hosts[i].find_first_of(" /:@") != std::string::npos)
      r.diag().error(r.key_path("http_hosts") + "." + std::to_string(i), "must be a host name without port");
  r.get("trusted_proxies", g.trusted_proxies);
  for (std::size_t i = 0; i < g.trusted_proxies.size(); ++i)
    if (!net_block::parse(g.trusted_proxies[i]))
      r.diag().error(
          r.key_path("trusted_proxies") + "." + std::to_string(i),
          "must be an IP address or CIDR block like 10.0.0.0/8 (got \"" + g.trusted_proxies[i] + "\")");
  r.get("http_max_connections", g.max_connections, 1, 1e7);
  r.get("http_max_connections_per_ip", g.max_connections_per_ip, 1, 1e7);
  r.get("http_max_body", g.max_body, 1024, 1u << 30);
  r.get_duration("http_header_timeout", g.header_timeout);
  if (g.header_timeout < 1) r.diag().error(r.key_path("http_header_timeout"), "must be at least 1 second");
  return g;
}

// The same from a whole configuration tree (problems were reported when it was loaded).
inline http_guard_config read_http_guard(const json::value& root) {
  config::diagnostics quiet;
  config::object_reader r(root, "", quiet);
  return read_http_guard(r);
}

namespace detail {

inline std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// "name:port" / "[v6]:port" / "name" -> the host part, lower case, without a trailing dot.
inline std::string host_part(std::string_view hostport) {
  std::string_view h = hostport;
  if (!h.empty() && h.front() == '[') {
    auto close = h.find(']');
    h = close == std::string_view::npos ? h : h.substr(0, close + 1);
  } else if (auto colon = h.rfind(':'); colon != std::string_view::npos && h.find(':') == colon) {
    h = h.substr(0, colon);
  }
  std::string out = lower_ascii(h);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// "name:port" / "[v6]:port" / "name" -> the port, `dflt` when there is none; nullopt when it is not
// a port number.
inline std::optional<unsigned> port_part(std::string_view hostport, unsigned dflt) {
  std::string_view p;
  if (!hostport.empty() && hostport.front() == '[') {
    auto close = hostport.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    if (close + 1 == hostport.size()) return dflt;
    if (hostport[close + 1] != ':') return std::nullopt;
    p = hostport.substr(close + 2);
  } else if (auto colon = hostport.rfind(':');
             colon != std::string_view::npos && hostport.find(':') == colon) {
    p = hostport.substr(colon + 1);
  } else {
    return dflt;  // no port, or a bare IPv6 address
  }
  if (p.empty() || p.size() > 5) return std::nullopt;
  unsigned v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v <= 65535 ? std::optional<unsigned>(v) : std::nullopt;
}

inline bool is_ip_literal(std::string_view host) {
  std::uint8_t buf[16];
  std::string s(host);
  if (s.size() > 2 && s.front() == '[' && s.back() == ']')
    return ::inet_pton(AF_INET6, s.substr(1, s.size() - 2).c_str(), buf) == 1;
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace detail

// The ports hbd listens on, as bound (an ephemeral port counts too); 0: not listening.
struct own_ports {
  unsigned http = 0;  // hbd_port: the web UI and the API over HTTP
  unsigned ws = 0;    // ws_port: the WebSocket stream only (no pages)
  unsigned wss = 0;   // wss_port: the web UI and the API over HTTPS, and WSS
};

// Whether `origin` (an Origin header, scheme://host[:port]) is hbd's own for a request whose Host
// header is `host`: the same host name, and either the port the request went to (the same origin,
// also behind a reverse proxy that keeps Host) or a port where hbd serves its pages with that
// scheme (hbd_port for http, wss_port for https; the web UI opens its stream on ws_port). A page
// from another port of the same host is another site: it is not hbd's.
inline bool own_origin(std::string_view origin, std::string_view host, const own_ports& ports) {
  auto sep = origin.find("://");
  if (sep == std::string_view::npos) return false;
  const std::string scheme = detail::lower_ascii(origin.substr(0, sep));
  if (scheme != "http" && scheme != "https") return false;
  std::string_view rest = origin.substr(sep + 3);
  if (rest.empty() || rest.find_first_of("/?#@") != std::string_view::npos) return false;
  const std::string name = detail::host_part(rest);
  if (name.empty() || name != detail::host_part(host)) return false;
  const unsigned dflt = scheme == "https" ? 443 : 80;
  auto port = detail::port_part(rest, dflt);
  auto host_port = detail::port_part(host, dflt);
  if (!port || !host_port) return false;
  if (*port == *host_port) return true;
  return *port == (scheme == "https" ? ports.wss : ports.http) && *port != 0;
}

// A refused request: its status and {"error": message}.
struct refusal {
  int status;
  std::string message;
};

class http_guard {
 public:
  http_guard() = default;
  // `bind_host` is hbd_host (a name there is accepted in Host like http_hosts).
  http_guard(const http_guard_config& c, std::string_view bind_host) { configure(c, bind_host); }

  void configure(const http_guard_config& c, std::string_view bind_host) {
    cfg_ = c;
    names_ = {"localhost"};
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) == 0 && buf[0]) {
      std::string h = detail::lower_ascii(buf);
      names_.push_back(h);
      if (auto dot = h.find('.'); dot != std::string::npos) names_.push_back(h.substr(0, dot));
    }
    if (!bind_host.empty()) names_.push_back(detail::host_part(bind_host));
    for (const auto& h : c.http_hosts) names_.push_back(detail::host_part(h));
    proxies_.clear();
    for (const auto& p : c.trusted_proxies)
      if (auto b = net_block::parse(p)) proxies_.push_back(*b);
  }
  const http_guard_config& config() const noexcept { return cfg_; }

  // Whether a Host header names this server: an IP literal, localhost, the machine's host name,
  // hbd_host or a name in http_hosts. A request without a Host header (HTTP/1.0) passes: browsers
  // always send one, and only a browser can be turned against us by DNS rebinding.
  bool host_allowed(std::optional<std::string_view> header) const {
    if (!header) return true;
    std::string h = detail::host_part(*header);
    if (h.empty()) return false;
    if (detail::is_ip_literal(h)) return true;
    for (const auto& n : names_)
      if (h == n) return true;
    return false;
  }

  // Whether a peer's X-Forwarded-For / -Proto headers are believed.
  bool trusted_proxy(std::string_view peer_address) const {
    for (const auto& b : proxies_)
      if (b.contains(peer_address)) return true;
    return false;
  }

  // The media type of a Content-Type value is application/json (parameters such as charset allowed).
  static bool json_content_type(std::string_view ct) {
    std::string_view type = ct.substr(0, ct.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    return detail::lower_ascii(type) == "application/json";
  }

  // The checks in order: Host (421), body size (413), Origin on a write (403), Content-Type of a
  // POST/PUT/PATCH body (415). `origin_ok` answers whether a present Origin is this server's own
  // or in cors_origins.
  template <class OriginOk>
  std::optional<refusal> check(std::string_view method, std::optional<std::string_view> host,
                               std::optional<std::string_view> origin, std::string_view content_type,
                               std::size_t body_size, OriginOk&& origin_ok) const {
    if (!host_allowed(host))
      return refusal{421, "this server does not answer to the name '" +
                              std::string(host->substr(0, std::min<std::size_t>(host->size(), 100))) +
                              "' (add it to http_hosts)"};
    if (body_size > cfg_.max_body)
      return refusal{413,
                     "request body too large (http_max_body is " + std::to_string(cfg_.max_body) + " bytes)"};
    const bool safe = method == "GET" || method == "HEAD" || method == "OPTIONS";
    if (!safe && origin && !origin_ok()) return refusal{403, "cross-origin request not allowed"};
    const bool with_body = method == "POST" || method == "PUT" || method == "PATCH";
    if (with_body && body_size > 0 && !json_content_type(content_type))
      return refusal{415, "Content-Type must be application/json"};
    return std::nullopt;
  }

 private:
  http_guard_config cfg_;
  std::vector<std::string> names_;
  std::vector<net_block> proxies_;
};

}  // namespace heartbeat::api
