// The checks every request passes first (api/guard.hpp), the connection accounting
// (api/connection_limits.hpp) and login attempts counted on arrival (api/auth.hpp).
#include <gtest/gtest.h>

#include "heartbeat/api/auth.hpp"
#include "heartbeat/api/connection_limits.hpp"
#include "heartbeat/api/guard.hpp"
#include "heartbeat/config/reader.hpp"

namespace api = heartbeat::api;
using sv = std::optional<std::string_view>;

namespace {

api::http_guard guard(std::vector<std::string> hosts = {}, std::vector<std::string> proxies = {}) {
  api::http_guard_config c;
  c.http_hosts = std::move(hosts);
  c.trusted_proxies = std::move(proxies);
  c.max_body = 1000;
  return api::http_guard(c, "hb.internal");
}

int status(const api::http_guard& g, std::string_view method, sv host, sv origin, std::string_view ct,
           std::size_t body, bool origin_ok = false) {
  auto r = g.check(method, host, origin, ct, body, [&] { return origin_ok; });
  return r ? r->status : 0;
}

}  // namespace

TEST(HttpGuard, HostMustNameThisServer) {
  auto g = guard({"Monitor.Example.org"});
  for (const char* ok : {"127.0.0.1", "127.0.0.1:50004", "[::1]:50004", "::1", "localhost", "LOCALHOST:1",
                         "hb.internal", "monitor.example.org.", "monitor.example.org:443", "10.1.2.3"})
    EXPECT_TRUE(g.host_allowed(std::string_view(ok))) << ok;
  for (const char* bad : {"evil.example", "localhost.evil.example", "", ":50004", "monitor.example.org.evil",
                          "127.0.0.1.nip.io"})
    EXPECT_FALSE(g.host_allowed(std::string_view(bad))) << bad;
  EXPECT_TRUE(g.host_allowed(std::nullopt));  // HTTP/1.0 without Host
}

TEST(HttpGuard, ChecksInOrderHostBodyOriginContentType) {
  auto g = guard();
  EXPECT_EQ(status(g, "GET", sv("evil.example"), std::nullopt, "", 0), 421);
  EXPECT_EQ(status(g, "POST", sv("localhost"), std::nullopt, "application/json", 1001), 413);
  EXPECT_EQ(status(g, "POST", sv("localhost"), sv("http://evil.example"), "application/json", 10), 403);
  EXPECT_EQ(status(g, "DELETE", sv("localhost"), sv("null"), "", 0), 403);
  EXPECT_EQ(status(g, "POST", sv("localhost"), std::nullopt, "", 10), 415);
  EXPECT_EQ(status(g, "PUT", sv("localhost"), std::nullopt, "text/plain", 10), 415);
  EXPECT_EQ(status(g, "PATCH", sv("localhost"), std::nullopt, "application/jsonx", 10), 415);
  EXPECT_EQ(status(g, "POST", sv("localhost"), std::nullopt, "Application/JSON; charset=utf-8", 10), 0);
  EXPECT_EQ(status(g, "POST", sv("localhost"), sv("http://localhost:1"), "application/json", 10, true), 0);
  EXPECT_EQ(status(g, "POST", sv("localhost"), std::nullopt, "", 0), 0);  // no body: nothing to type
  EXPECT_EQ(status(g, "GET", sv("localhost"), sv("http://evil.example"), "", 0), 0);  // reads are CORS's job
}

TEST(HttpGuard, TrustedProxiesByAddressOrBlock) {
  auto g = guard({}, {"10.0.0.0/8", "2001:db8::/32", "192.168.1.7"});
  EXPECT_TRUE(g.trusted_proxy("10.200.3.4"));
  EXPECT_TRUE(g.trusted_proxy("::ffff:10.1.1.1"));
  EXPECT_TRUE(g.trusted_proxy("2001:db8:1::5"));
  EXPECT_TRUE(g.trusted_proxy("192.168.1.7"));
  EXPECT_FALSE(g.trusted_proxy("192.168.1.8"));
  EXPECT_FALSE(g.trusted_proxy("11.0.0.1"));
  EXPECT_FALSE(guard().trusted_proxy("127.0.0.1"));
}

TEST(HttpGuard, KeysAreReadWithTheirPaths) {
  heartbeat::config::diagnostics d;
  auto root = heartbeat::json::parse(
      R"({"trusted_proxies": ["10.0.0.0/33", "x"], "http_hosts": ["ok.example", "bad host:1"],
          "http_max_body": 10, "http_header_timeout": "2s", "http_max_connections_per_ip": 3})");
  heartbeat::config::object_reader r(*root, "", d);
  auto c = api::read_http_guard(r);
  std::vector<std::string> errors;
  for (const auto& i : d.items) errors.push_back(i.path);
  EXPECT_EQ(errors, (std::vector<std::string>{"http_hosts.1", "trusted_proxies.0", "trusted_proxies.1",
                                              "http_max_body"}));
  EXPECT_EQ(c.header_timeout, 2);
  EXPECT_EQ(c.max_connections_per_ip, 3u);
  EXPECT_EQ(c.max_connections, 4096u);
}

TEST(ConnectionLimits, PerAddressAndTotal) {
  api::connection_limits l;
  l.configure(3, 2);
  auto a = asio::ip::make_address("10.0.0.1"), b = asio::ip::make_address("10.0.0.2");
  EXPECT_TRUE(l.admit(a));
  EXPECT_TRUE(l.admit(a));
  EXPECT_FALSE(l.admit(a));  // per address
  EXPECT_TRUE(l.admit(b));
  EXPECT_FALSE(l.admit(asio::ip::make_address("10.0.0.3")));  // total
  EXPECT_EQ(l.refused(), 2u);
  l.release(a);
  EXPECT_TRUE(l.admit(asio::ip::make_address("10.0.0.3")));
  EXPECT_EQ(l.open(), 3u);
  EXPECT_EQ(l.count(a), 1u);
}

// Five guesses sent at once: the sixth is refused before any password check has finished.
TEST(LoginLimits, AttemptsCountWhenTheyArrive) {
  api::login_limits l;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(l.begin("10.0.0.1", "eve", 1), 0);
  EXPECT_GT(l.begin("10.0.0.1", "eve", 1), 0);
  // A right password takes its attempt back: no lock-out of an address by its successful logins.
  api::login_limits ok;
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(ok.begin("10.0.0.2", "alice", i), 0) << i;
    ok.succeeded("10.0.0.2", "alice");
  }
  ok.begin("10.0.0.3", "bob", 1);
  ok.cancel("10.0.0.3", "bob");
  EXPECT_EQ(ok.per_address.keys() + ok.per_user.keys(), 0u);
}

// An Origin is hbd's own on this host name with the port the request went to, or with a port
// where hbd serves its pages under that scheme; another port of the same host is another site.
TEST(HttpGuard, OwnOriginIsThisHostAndOneOfHbdsPorts) {
  api::own_ports ports{50004, 50005, 50443};
  // The same origin (also behind a proxy that keeps Host; default ports by scheme).
  EXPECT_TRUE(api::own_origin("http://127.0.0.1:50004", "127.0.0.1:50004", ports));
  EXPECT_TRUE(api::own_origin("https://mon.example", "mon.example", ports));
  EXPECT_TRUE(api::own_origin("https://mon.example:443", "MON.example", ports));
  EXPECT_TRUE(api::own_origin("http://[::1]:50004", "[::1]:50004", ports));
  // The web UI's page on hbd_port (or wss_port) opening its stream on ws_port.
  EXPECT_TRUE(api::own_origin("http://127.0.0.1:50004", "127.0.0.1:50005", ports));
  EXPECT_TRUE(api::own_origin("https://127.0.0.1:50443", "127.0.0.1:50005", ports));
  // Another port of the same host, a port of hbd under the other scheme, another host.
  EXPECT_FALSE(api::own_origin("http://127.0.0.1:8080", "127.0.0.1:50004", ports));
  EXPECT_FALSE(api::own_origin("http://127.0.0.1", "127.0.0.1:50004", ports));
  EXPECT_FALSE(api::own_origin("http://127.0.0.1:50005", "127.0.0.1:50004", ports));  // ws_port has no pages
  EXPECT_FALSE(api::own_origin("https://127.0.0.1:50004", "127.0.0.1:50005", ports));
  EXPECT_FALSE(api::own_origin("http://127.0.0.1:50443", "127.0.0.1:50004", ports));
  EXPECT_FALSE(api::own_origin("http://evil.example:50004", "127.0.0.1:50004", ports));
  EXPECT_FALSE(api::own_origin("http://[::1]:8080", "[::1]:50004", ports));
  // Not an origin.
  for (const char* bad :
       {"127.0.0.1:50004", "ftp://127.0.0.1:50004", "http://127.0.0.1:50004/x", "http://u@127.0.0.1:50004",
        "http://127.0.0.1:99999", "http://127.0.0.1:x", "http://"})
    EXPECT_FALSE(api::own_origin(bad, "127.0.0.1:50004", ports)) << bad;
  // Without a wss listener no https origin on another port is hbd's.
  EXPECT_FALSE(api::own_origin("https://127.0.0.1:0", "127.0.0.1:50005", api::own_ports{50004, 50005, 0}));
}
