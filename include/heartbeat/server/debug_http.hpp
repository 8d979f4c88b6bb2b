// A stop-gap HTTP listener on hbd_host:hbd_port serving GET /api/0/hosts,
// GET /api/0/messages, GET /api/0/stats and GET /healthz straight from the
// registry, used only while the real API (api::http_server, RESTinio) is not
// wired into app.hpp. One request per connection, read-only, on the io thread,
// every read and write under a timeout.
#pragma once

#include <memory>
#include <string>

#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/net/asio.hpp"
#include "heartbeat/protocol/reject.hpp"
#include "heartbeat/server/ingest_clock.hpp"
#include "heartbeat/server/registry.hpp"
#include "heartbeat/server/stats.hpp"

namespace heartbeat::server {

class debug_http {
 public:
  debug_http(asio::io_context& io, registry& reg, stats& st) : io_(io), reg_(reg), stats_(st), acceptor_(io) {}

  result<void> open(const std::string& host, std::uint16_t port) {
    asio::error_code ec;
    auto addr = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    if (ec) return make_error("bad_address", "hbd_host: not an IP address: " + host);
    asio::ip::tcp::endpoint ep(addr, port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(64, ec);
    if (ec) return make_error("bind", "cannot listen on tcp " + host + ":" + std::to_string(port) + ": " + ec.message());
    log::info("http: (debug listener) on ", host.empty() ? "0.0.0.0" : host, ":", acceptor_.local_endpoint().port());
    net::spawn(io_, accept_loop(), "debug_http");
    return {};
  }
  void close() {
    asio::error_code ec;
    acceptor_.close(ec);
  }

 private:
  asio::io_context& io_;
  registry& reg_;
  stats& stats_;
  asio::ip::tcp::acceptor acceptor_;

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(net::as_tuple_awaitable);
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      if (ec) continue;
      net::spawn(io_, serve(std::move(sock)), "debug_http connection");
    }
  }

  std::string stats_json() const {
    std::string o = "{\"datagrams_received\":" + std::to_string(stats_.datagrams_received) +
                    ",\"datagrams_accepted\":" + std::to_string(stats_.datagrams_accepted) +
                    ",\"datagrams_rejected\":" + std::to_string(stats_.datagrams_rejected) +
                    ",\"acks_sent\":" + std::to_string(stats_.acks_sent) +
                    ",\"commands_sent\":" + std::to_string(stats_.commands_sent) +
                    ",\"reloads\":" + std::to_string(stats_.reloads) + ",\"rejected\":{";
    bool first = true;
    for (std::size_t i = 1; i < stats::max_reject_reasons; ++i) {
      if (!stats_.rejected_by_reason[i]) continue;
      if (!first) o += ",";
      first = false;
      o += "\"" + std::string(protocol::to_string(static_cast<protocol::reject>(i))) +
           "\":" + std::to_string(stats_.rejected_by_reason[i]);
    }
    return o + "}}";
  }

  net::awaitable<void> serve(asio::ip::tcp::socket sock) {
    std::string req;
    auto read = [&]() -> net::awaitable<std::size_t> {
      co_return co_await asio::async_read_until(sock, asio::dynamic_buffer(req, 16384), "\r\n\r\n", net::use_awaitable);
    };
    auto got = co_await net::with_timeout(read(), std::chrono::seconds(5));
    if (!got) co_return;
    std::string path;
    std::size_t sp1 = req.find(' ');
    std::size_t sp2 = sp1 == std::string::npos ? sp1 : req.find(' ', sp1 + 1);
    std::string method = sp1 == std::string::npos ? "" : req.substr(0, sp1);
    if (sp2 != std::string::npos) path = req.substr(sp1 + 1, sp2 - sp1 - 1);
    if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    int status = 200;
    std::string body;
    if (method != "GET") {
      status = 405;
      body = "{\"error\":\"method not allowed\"}";
    } else if (path == "/api/0/hosts") {
      reg_.write_hosts_json(body, wall_now());
    } else if (path == "/api/0/messages") {
      body = reg_.messages_json().dump();
    } else if (path == "/api/0/stats") {
      body = stats_json();
    } else if (path == "/healthz") {
      body = "{\"status\":\"ok\"}";
    } else {
      status = 404;
      body = "{\"error\":\"not found\"}";
    }
    std::string head = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
                       "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n";
    auto write = [&]() -> net::awaitable<std::size_t> {
      std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(body)};
      co_return co_await asio::async_write(sock, bufs, net::use_awaitable);
    };
    co_await net::with_timeout(write(), std::chrono::seconds(10));
    asio::error_code ec;
    sock.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }
};

}  // namespace heartbeat::server
