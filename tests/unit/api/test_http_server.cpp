// api::http_server over an in-memory backend: listeners bind (port 0 reads back the real port), a
// missing certificate is a "tls" start-up error, and one HTTP exchange works on the shared io_context.
#include "heartbeat/api/http_server.hpp"

#include <gtest/gtest.h>

#include "fake_backend.hpp"

namespace api = heartbeat::api;
namespace json = heartbeat::json;

namespace {

api::settings loopback() {
  api::settings s;
  s.address = "127.0.0.1";
  s.http_port = 0;
  s.ws_port = 0;
  s.web_dir = HB_SOURCE_DIR "/web";
  s.guard.http_hosts = {"x"};  // the name the requests below send as Host
  return s;
}

// Sends one raw HTTP request on the io_context's own thread and returns the whole response.
std::string exchange(asio::io_context& io, std::uint16_t port, const std::string& request) {
  asio::ip::tcp::socket sock(io);
  std::string response;
  sock.async_connect({asio::ip::make_address("127.0.0.1"), port}, [&](const asio::error_code& ec) {
    ASSERT_FALSE(ec) << ec.message();
    asio::async_write(sock, asio::buffer(request), [&](const asio::error_code& ec2, std::size_t) {
      ASSERT_FALSE(ec2);
      asio::async_read(sock, asio::dynamic_buffer(response),
                       [&](const asio::error_code&, std::size_t) { io.stop(); });
    });
  });
  io.run_for(std::chrono::seconds(5));
  io.restart();
  return response;
}

}  // namespace

TEST(HttpServer, BindsEphemeralPorts) {
  asio::io_context io;
  api::testing::fake_backend b;
  api::http_server srv(io, loopback(), b);
  ASSERT_TRUE(srv.start().ok());
  EXPECT_NE(srv.http_port(), 0);
  EXPECT_NE(srv.ws_port(), 0);
  EXPECT_NE(srv.http_port(), srv.ws_port());
}

TEST(HttpServer, MissingCertificateIsATlsError) {
  asio::io_context io;
  api::testing::fake_backend b;
  auto s = loopback();
  s.wss_port = 0;
  s.cert_file = "/nonexistent/fullchain.pem";
  s.key_file = "/nonexistent/privkey.pem";
  api::http_server srv(io, s, b);
  auto r = srv.start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, "tls");
  EXPECT_NE(r.err().message.find("/nonexistent/fullchain.pem"), std::string::npos);
}

TEST(HttpServer, OpenModeServesHostsAndErrors) {
  asio::io_context io;
  api::testing::fake_backend b;
  b.hosts["web1"];
  api::http_server srv(io, loopback(), b);
  ASSERT_TRUE(srv.start().ok());
  std::string r =
      exchange(io, srv.http_port(), "GET /api/0/hosts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_NE(r.find("\"name\":\"web1\""), std::string::npos) << r;
  r = exchange(io, srv.http_port(),
               "GET /api/0/hosts/nope/plugins HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 404"), std::string::npos) << r;
  EXPECT_NE(r.find("{\"error\":\"Host 'nope' not found\"}"), std::string::npos) << r;
}
