// The HTTP routes' answers at their edges (api/routes.hpp), over an in-memory backend with users:
// percent-decoding, trailing slashes, case, unknown API versions, HEAD, the order of the 401/403/404/
// 405 checks, CORS preflight, the WebSocket port, static files (read again on reload) and gzip of
// the hosts list.
#include "heartbeat/api/http_server.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "../temp_dir.hpp"
#include "fake_backend.hpp"

namespace api = heartbeat::api;
namespace json = heartbeat::json;

namespace {

struct response {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  bool has_header(const std::string& line) const {
    return head.find("\r\n" + line + "\r\n") != std::string::npos;
  }
};

std::string gunzip(const std::string& in) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out(in.size() * 50 + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string("<bad gzip>");
}

class Routes : public ::testing::Test {
 protected:
  void SetUp() override {
    b.hosts["web1"].access.owner = "olivia";
    b.hosts["web1"].access.monitors = {"mona"};
    b.hosts["web1"].history["mem"] = {json::value::object({{"timestamp", 1.0}, {"data", 1}})};
    for (int i = 0; i < 40; ++i) b.hosts["filler-" + std::to_string(100 + i)];
    api::settings s;
    s.address = "127.0.0.1";
    s.http_port = 0;
    s.ws_port = 0;
    s.web_dir = HB_SOURCE_DIR "/web";
    s.cors_origins = {"https://dash.example"};
    std::string hash = *api::hash_password("secret123", 1000);
    s.users = {{"alice", "", "", hash, true, {}},
               {"olivia", "", "", hash, false, {}},
               {"mona", "", "", hash, false, {}}};
    srv = std::make_unique<api::http_server>(io, s, b);
    ASSERT_TRUE(srv->start().ok());
    for (const char* u : {"alice", "olivia", "mona"}) {
      auto r = send("POST", "/api/0/auth/login", "",
                    std::string("{\"username\":\"") + u + "\",\"password\":\"secret123\"}");
      ASSERT_EQ(r.status, 200) << r.body;
      auto v = json::parse(r.body);
      token[u] = v->find("token")->as_string();
      csrf[u] = v->find("csrf_token")->as_string();
    }
  }

  // One request on its own connection, answered on the io_context's own thread.
  response send(const std::string& method, const std::string& path, const std::string& headers = "",
                const std::string& body = "", std::uint16_t port = 0) {
    std::string request =
        method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers;
    if (!body.empty() || method == "POST" || method == "PUT")
      request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n" + body;
    asio::ip::tcp::socket sock(io);
    std::string raw;
    sock.async_connect({asio::ip::make_address("127.0.0.1"), port ? port : srv->http_port()},
                       [&](const asio::error_code& ec) {
                         ASSERT_FALSE(ec) << ec.message();
                         asio::async_write(
                             sock, asio::buffer(request), [&](const asio::error_code&, std::size_t) {
                               asio::async_read(sock, asio::dynamic_buffer(raw),
                                                [&](const asio::error_code&, std::size_t) { io.stop(); });
                             });
                       });
    io.run_for(std::chrono::seconds(5));
    io.restart();
    response r;
    auto end = raw.find("\r\n\r\n");
    r.head = raw.substr(0, end + 2);
    r.body = end == std::string::npos ? std::string() : raw.substr(end + 4);
    if (raw.size() > 12) r.status = std::stoi(raw.substr(9, 3));
    return r;
  }

  response as(const std::string& user, const std::string& method, const std::string& path,
              const std::string& body = "") {
    return send(method, path, "Authorization: Bearer " + token[user] + "\r\n", body);
  }

  static std::string error(const std::string& message) { return "{\"error\":\"" + message + "\"}"; }

  asio::io_context io;
  api::testing::fake_backend b;
  std::unique_ptr<api::http_server> srv;
  std::map<std::string, std::string> token, csrf;
};

TEST_F(Routes, PathsArePercentDecodedPerSegment) {
  EXPECT_EQ(as("mona", "GET", "/api/0/ho%73ts/web%31").status, 200);
  EXPECT_EQ(as("mona", "GET", "/api/0/hosts/web%31/plugins/m%65m").status, 200);
  EXPECT_EQ(as("alice", "GET", "/api/0/hosts/a%2Fb").body, error("Host 'a/b' not found"));
  EXPECT_EQ(as("alice", "GET", "/api/0/hosts/a+b").body, error("Host 'a b' not found"));
  EXPECT_EQ(as("alice", "GET", "/api/0/hosts/%C3%A9").body, error("Host '\xC3\xA9' not found"));
  for (const char* bad : {"/api/0/hosts/%zz", "/api/0/hosts/%4", "/api/0/hosts/a@b", "/api/0/hosts/web1%00",
                          "/api/0/hosts/%C3", "/static/%00", "*"}) {
    auto r = as("alice", "GET", bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.body, error("malformed URL path")) << bad;
  }
  // A decoded slash does not split a segment: no route under /api/0 matches this.
  EXPECT_EQ(as("alice", "GET", "/api%2F0/hosts").body, error("not found"));
}

TEST_F(Routes, TrailingSlashesAreIgnoredEmptySegmentsAreNot) {
  for (const char* p :
       {"/api/0/hosts/", "/api/0/hosts//", "/api/0/hosts/web1/", "/api/0/hosts/web1/plugins//"})
    EXPECT_EQ(as("mona", "GET", p).status, 200) << p;
  EXPECT_EQ(send("GET", "//").status, 302);
  EXPECT_EQ(send("GET", "/healthz//").status, 200);
  EXPECT_EQ(as("alice", "GET", "/api/0/hosts//plugins").body, error("Host '' not found"));
  EXPECT_EQ(as("alice", "GET", "/api/0//hosts").body, error("unknown endpoint"));
  EXPECT_EQ(as("alice", "GET", "/static/js//api.js").status, 404);
}

TEST_F(Routes, PathsAreCaseSensitive) {
  EXPECT_EQ(send("GET", "/HEALTHZ").body, error("not found"));
  EXPECT_EQ(as("alice", "GET", "/API/0/hosts").body, error("not found"));
  EXPECT_EQ(as("alice", "GET", "/api/0/Hosts").body, error("unknown endpoint"));
  EXPECT_EQ(as("alice", "GET", "/api/0/hosts/WEB1").body, error("Host 'WEB1' not found"));
}

TEST_F(Routes, UnknownApiVersionsNeedNoSession) {
  for (const char* p : {"/api", "/api/", "/api/1", "/api/1/hosts", "/api/00/hosts", "/api//0/hosts"}) {
    auto r = send("GET", p);
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_EQ(r.body, error("unknown API version")) << p;
  }
  EXPECT_EQ(send("GET", "/api/0").body, error("authentication required"));
  EXPECT_EQ(as("mona", "GET", "/api/0").body, error("unknown endpoint"));
  EXPECT_EQ(as("mona", "GET", "/api/0/nope/x").body, error("unknown endpoint"));
}

TEST_F(Routes, ChecksRunInOrderSessionCsrfHostMethodRole) {
  EXPECT_EQ(send("PATCH", "/api/0/hosts").body, error("authentication required"));
  std::string cookie = "Cookie: hb_session=" + token["olivia"] + "\r\n";
  EXPECT_EQ(send("PATCH", "/api/0/hosts", cookie).body, error("missing or wrong X-CSRF-Token header"));
  EXPECT_EQ(send("PATCH", "/api/0/hosts", cookie + "X-CSRF-Token: " + csrf["olivia"] + "\r\n").body,
            error("use GET"));
  EXPECT_EQ(send("GET", "/api/0/hosts", cookie).status, 200);  // reads need no CSRF token
  EXPECT_EQ(as("olivia", "POST", "/api/0/hosts/web1/dns", "{}").status, 200);
  EXPECT_EQ(send("POST", "/api/0/hosts/web1/dns",
                 "Authorization: Bearer " + token["olivia"] + "\r\nOrigin: https://evil.example\r\n", "{}")
                .body,
            error("cross-origin request not allowed"));
  // The host check comes before the method check, the method check before the role check.
  EXPECT_EQ(as("mona", "PATCH", "/api/0/hosts/ghost").body, error("Host 'ghost' not found"));
  EXPECT_EQ(as("mona", "PATCH", "/api/0/hosts/web1").body, error("use GET or DELETE"));
  EXPECT_EQ(as("mona", "DELETE", "/api/0/hosts/web1").body,
            error("dropping a host needs the owner role on this host"));
  EXPECT_EQ(as("mona", "PATCH", "/api/0/hosts/web1/access").body, error("use GET or PUT"));
  EXPECT_EQ(as("mona", "GET", "/api/0/hosts/web1/access").body,
            error("viewing access needs the owner role on this host"));
  EXPECT_EQ(as("mona", "GET", "/api/0/hosts/web1/commands").body, error("use POST"));
  EXPECT_EQ(as("mona", "POST", "/api/0/hosts/web1/commands", "{}").body,
            error("queueing a command needs the manager role on this host"));
  EXPECT_EQ(as("mona", "GET", "/api/0/hosts/web1/alerts/ack").body, error("use POST"));
  EXPECT_EQ(as("mona", "POST", "/api/0/hosts/web1/plugins/mem/x", "{}").body, error("use GET"));
  EXPECT_EQ(as("mona", "GET", "/api/0/hosts/web1/plugins/mem/x").body, error("unknown endpoint"));
  EXPECT_EQ(as("mona", "GET", "/api/0/hosts/web1/alerts/x").body, error("unknown endpoint"));
  // Users: the admin flag first; then the user; then the method.
  EXPECT_EQ(as("mona", "PATCH", "/api/0/users").body, error("user management needs the admin flag"));
  EXPECT_EQ(as("alice", "PATCH", "/api/0/users").body, error("use GET or POST"));
  EXPECT_EQ(as("alice", "PATCH", "/api/0/users/ghost").body, error("User 'ghost' not found"));
  EXPECT_EQ(as("alice", "PATCH", "/api/0/users/mona").body, error("use GET, PUT or DELETE"));
  EXPECT_EQ(as("alice", "GET", "/api/0/users/mona/x").body, error("unknown endpoint"));
  // Config: the method first, then the admin flag.
  EXPECT_EQ(as("mona", "PATCH", "/api/0/config").body, error("use GET"));
  EXPECT_EQ(as("mona", "GET", "/api/0/config").body, error("the server configuration needs the admin flag"));
  // Login answers before any session check.
  EXPECT_EQ(send("GET", "/api/0/auth/login").body, error("use POST"));
  EXPECT_EQ(send("GET", "/api/0/auth/logout").body, error("authentication required"));
}

TEST_F(Routes, HeadAndOtherMethods) {
  auto head = as("mona", "HEAD", "/live");
  EXPECT_EQ(head.status, 200);
  EXPECT_NE(head.head.find("text/html"), std::string::npos);
  EXPECT_EQ(as("mona", "HEAD", "/api/0/me").body, error("use GET"));
  EXPECT_EQ(send("PATCH", "/healthz").body, "{\"status\":\"ok\"}");
  EXPECT_EQ(send("POST", "/nope", "", "{}").body, error("method not allowed"));
  EXPECT_EQ(send("POST", "/static/js/api.js", "", "{}").body, error("method not allowed"));
  EXPECT_EQ(send("GET", "/nope").body, error("not found"));
  EXPECT_EQ(send("DELETE", "/").status, 302);
  EXPECT_EQ(send("POST", "/metrics", "", "{}").status, 401);
}

TEST_F(Routes, PagesRedirectWithoutSession) {
  auto r = send("GET", "/plugins/web1");
  EXPECT_EQ(r.status, 302);
  EXPECT_TRUE(r.has_header("Location: /login?next=%2Fplugins%2Fweb1")) << r.head;
  EXPECT_EQ(send("GET", "/login").status, 200);
  EXPECT_EQ(send("GET", "/plugins/web1/x").body, error("not found"));
}

TEST_F(Routes, CorsPreflight) {
  auto r = send("OPTIONS", "/anything", "Origin: https://dash.example\r\n");
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.has_header("Access-Control-Allow-Origin: https://dash.example")) << r.head;
  EXPECT_TRUE(r.has_header("Access-Control-Max-Age: 600")) << r.head;
  EXPECT_EQ(send("OPTIONS", "/api/0/hosts", "Origin: https://evil.example\r\n").body,
            error("CORS origin not allowed"));
}

TEST_F(Routes, WebSocketPortAndHandshakes) {
  std::string upgrade =
      "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  EXPECT_EQ(send("GET", "/api/0/hosts", "", "", srv->ws_port()).body,
            error("this port serves only the WebSocket stream at /hbd"));
  EXPECT_EQ(send("GET", "/nope", upgrade, "", srv->ws_port()).body, error("no WebSocket endpoint here"));
  EXPECT_EQ(send("GET", "/hbd", upgrade, "", srv->ws_port()).body, error("authentication required"));
  EXPECT_EQ(send("GET", "/ws/", upgrade).body, error("authentication required"));
  EXPECT_EQ(send("GET", "/ws",
                 upgrade + "Cookie: hb_session=" + token["mona"] + "\r\nOrigin: https://evil.example\r\n")
                .body,
            error("cross-origin WebSocket not allowed"));
}

TEST_F(Routes, StaticFilesFromMemoryWithTheirHeaders) {
  auto r = send("GET", "/static/js/api.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.has_header("Content-Type: text/javascript; charset=utf-8")) << r.head;
  EXPECT_TRUE(r.has_header("Cache-Control: no-cache")) << r.head;
  EXPECT_NE(r.body.find("export"), std::string::npos);
  for (const char* bad : {"/static/../CMakeLists.txt", "/static/%2e%2e/web/live.html", "/static/.hidden",
                          "/static/", "/static/js", "/favicon.ico"})
    EXPECT_EQ(send("GET", bad).body, error("not found")) << bad;
}

TEST_F(Routes, HostsListIsGzippedForClientsThatAskAndVaries) {
  auto plain = as("alice", "GET", "/api/0/hosts");
  ASSERT_GT(plain.body.size(), 1400u);
  EXPECT_TRUE(plain.has_header("Vary: Accept-Encoding")) << plain.head;
  auto gz = send("GET", "/api/0/hosts",
                 "Authorization: Bearer " + token["alice"] + "\r\nAccept-Encoding: gzip\r\n");
  EXPECT_TRUE(gz.has_header("Content-Encoding: gzip")) << gz.head;
  EXPECT_EQ(gunzip(gz.body), plain.body);
  // Small lists, pages and single hosts are never compressed.
  auto small =
      send("GET", "/api/0/hosts", "Authorization: Bearer " + token["mona"] + "\r\nAccept-Encoding: gzip\r\n");
  EXPECT_EQ(small.head.find("Content-Encoding"), std::string::npos);
  auto page = send("GET", "/api/0/hosts?limit=30",
                   "Authorization: Bearer " + token["alice"] + "\r\nAccept-Encoding: gzip\r\n");
  EXPECT_EQ(page.head.find("Content-Encoding"), std::string::npos);
  EXPECT_TRUE(page.has_header("X-Total-Count: 41")) << page.head;
}

}  // namespace

TEST(PathEngine, LiteralPrefixStopsAtTheFirstOperator) {
  using api::detail::path_engine;
  EXPECT_EQ(path_engine::literal_prefix("^\\/api\\/0\\/hosts$"), "/api/0/hosts");
  EXPECT_EQ(path_engine::literal_prefix("^\\/api\\/0\\/hosts\\/((?:[^\\/]+?))$"), "/api/0/hosts/");
  EXPECT_EQ(path_engine::literal_prefix("^((?:.*))$"), "");
  EXPECT_EQ(path_engine::literal_prefix("^\\/ab?c$"), "/a");
  EXPECT_EQ(path_engine::literal_prefix("^\\/a\\d+$"), "/a");
  EXPECT_EQ(path_engine::literal_prefix("^abc|def$"), "");
  EXPECT_EQ(path_engine::literal_prefix("^ab[|]c$"), "ab");
  bool whole = false;
  EXPECT_EQ(path_engine::literal_prefix("^\\/healthz$", &whole), "/healthz");
  EXPECT_TRUE(whole);
  path_engine::literal_prefix("^\\/a\\/((?:.*))$", &whole);
  EXPECT_FALSE(whole);
  path_engine::literal_prefix("^\\/a$|^b$", &whole);
  EXPECT_FALSE(whole);
}

TEST(HttpServerReload, ReadsTheWebUiAgain) {
  hbtest::temp_dir d;
  std::filesystem::create_directories(d.path / "static");
  std::ofstream(d.path / "static/a.js") << "old";
  asio::io_context io;
  api::testing::fake_backend b;
  api::settings s;
  s.address = "127.0.0.1";
  s.http_port = 0;
  s.ws_enabled = false;
  s.web_dir = d.path.string();
  s.guard.http_hosts = {"x"};  // the name the requests below send as Host
  api::http_server srv(io, s, b);
  ASSERT_TRUE(srv.start().ok());
  auto get = [&] {
    asio::ip::tcp::socket sock(io);
    std::string raw, request = "GET /static/a.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    sock.async_connect({asio::ip::make_address("127.0.0.1"), srv.http_port()}, [&](const asio::error_code&) {
      asio::async_write(sock, asio::buffer(request), [&](const asio::error_code&, std::size_t) {
        asio::async_read(sock, asio::dynamic_buffer(raw),
                         [&](const asio::error_code&, std::size_t) { io.stop(); });
      });
    });
    io.run_for(std::chrono::seconds(5));
    io.restart();
    return raw.substr(raw.find("\r\n\r\n") + 4);
  };
  EXPECT_EQ(get(), "old");
  std::ofstream(d.path / "static/a.js") << "new";
  EXPECT_EQ(get(), "old");  // served from memory
  srv.reload(s);
  EXPECT_EQ(get(), "new");
}
