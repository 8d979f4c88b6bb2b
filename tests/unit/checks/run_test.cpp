// Runs of real checks on an io_context against servers in this process: an HTTP server (curl's
// multi interface driven by Asio), a closed port (tcp), a DNS query nobody answers (c-ares), and a
// Nagios plugin that does not exist (the subprocess runner).
#include "heartbeat/checks/check.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "heartbeat/checks/config.hpp"
#include "heartbeat/config/yaml.hpp"

using namespace heartbeat;

namespace {

// A one-answer-per-connection HTTP server on 127.0.0.1.
struct tiny_http {
  asio::ip::tcp::acceptor acc;
  std::string answer;
  explicit tiny_http(asio::io_context& io, std::string a)
      : acc(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), answer(std::move(a)) {
    accept();
  }
  unsigned short port() const { return acc.local_endpoint().port(); }
  void accept() {
    acc.async_accept([this](asio::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      auto sock = std::make_shared<asio::ip::tcp::socket>(std::move(s));
      auto buf = std::make_shared<std::string>();
      asio::async_read_until(
          *sock, asio::dynamic_buffer(*buf), "\r\n\r\n", [this, sock, buf](asio::error_code e, std::size_t) {
            if (e) return;
            asio::async_write(*sock, asio::buffer(answer), [sock](asio::error_code, std::size_t) {
              asio::error_code ignore;
              sock->shutdown(asio::ip::tcp::socket::shutdown_both, ignore);
            });
          });
      accept();
    });
  }
};

std::shared_ptr<const checks::check_def> def_of(const std::string& yaml) {
  auto tree = config::parse_yaml("checks: {c: " + yaml + "}");
  EXPECT_TRUE(tree.ok());
  config::diagnostics d;
  auto c = checks::load_checks_config(*tree, d);
  for (const auto& i : d.items) ADD_FAILURE() << i.text();
  EXPECT_EQ(c.checks.size(), 1u);
  return c.checks.empty() ? nullptr : c.checks[0];
}

checks::check_result run_one(asio::io_context& io, std::shared_ptr<checks::runtime> rt,
                             std::shared_ptr<const checks::check_def> def) {
  checks::check_result out;
  bool done = false;
  io.restart();  // the last run may have left it without work, i.e. stopped
  asio::co_spawn(io, checks::run_check(def, rt), [&](std::exception_ptr, checks::check_result r) {
    out = std::move(r);
    done = true;
  });
  for (int i = 0; i < 1000 && !done; ++i) io.run_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(done);
  return out;
}

}  // namespace

TEST(CheckRuns, HttpThroughCurlMulti) {
  asio::io_context io;
  auto rt = std::make_shared<checks::runtime>(io.get_executor());
  tiny_http ok(io, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nhealthy");
  tiny_http bad(io, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  const std::string base = "http://127.0.0.1:";
  auto r = run_one(
      io, rt,
      def_of("{type: http, url: \"" + base + std::to_string(ok.port()) + "/health\", expect_body: heal}"));
  EXPECT_TRUE(r.succeeded()) << r.error;
  EXPECT_EQ(r.metrics.number_or("status_code", 0), 200);
  EXPECT_GT(r.response_ms, 0);
  EXPECT_GT(r.checked_at, 0);
  const std::string url = base + std::to_string(bad.port()) + "/health";
  r = run_one(io, rt, def_of("{type: http, url: \"" + url + "\"}"));
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.error, "HTTP 503 from " + url);
  r = run_one(io, rt,
              def_of("{type: http, url: \"" + base + std::to_string(ok.port()) + "/\", expect_body: nope}"));
  EXPECT_EQ(r.error, "body of " + base + std::to_string(ok.port()) + "/ does not match /nope/");
  // Many at once through the one multi handle.
  int passed = 0, finished = 0;
  auto d = def_of("{type: http, url: \"" + base + std::to_string(ok.port()) + "/\"}");
  for (int i = 0; i < 50; ++i)
    asio::co_spawn(io, checks::run_check(d, rt), [&](std::exception_ptr, checks::check_result x) {
      passed += x.succeeded();
      ++finished;
    });
  for (int i = 0; i < 1000 && finished < 50; ++i) io.run_for(std::chrono::milliseconds(10));
  EXPECT_EQ(passed, 50);
}

TEST(CheckRuns, TcpDnsAndNagiosFailuresInWords) {
  asio::io_context io;
  auto rt = std::make_shared<checks::runtime>(io.get_executor());
  asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = probe.local_endpoint().port();
  probe.close();
  auto r = run_one(io, rt, def_of("{type: tcp, address: 127.0.0.1, port: " + std::to_string(port) + "}"));
  EXPECT_EQ(r.error, "connect to 127.0.0.1:" + std::to_string(port) + ": connection refused");
  // A UDP port nobody answers on: c-ares gives up after the timeout.
  asio::ip::udp::socket quiet(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto dport = quiet.local_endpoint().port();
  r = run_one(io, rt,
              def_of("{type: dns, server: 127.0.0.1, port: " + std::to_string(dport) +
                     ", query: example.com, timeout: 0.3}"));
  EXPECT_EQ(r.error, "no answer from 127.0.0.1:" + std::to_string(dport) + " within 0.3 s");
  r = run_one(io, rt, def_of("{type: nagios, command: [/nonexistent/check_x]}"));
  EXPECT_EQ(r.error.rfind("cannot run /nonexistent/check_x", 0), 0u) << r.error;
  r = run_one(io, rt,
              def_of("{type: nagios, command: [/bin/sh, -c, 'echo \"WARNING - slow | t=3s;1;5\"; exit 1']}"));
  EXPECT_EQ(r.outcome, checks::outcome::warn);
  EXPECT_EQ(r.error, "WARNING - slow");
  EXPECT_EQ(r.metrics.find("perfdata")->number_or("t", 0), 3);
}
