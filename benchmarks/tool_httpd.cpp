// A minimal HTTP server for the checks benchmark (benchmarks/run.d/70-checks.sh): one thread,
// every request answered "200 ok" and the connection closed, so that the server costs far less
// than the hbd it serves. Usage: tool_httpd [port]; prints "port N" once listening.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "heartbeat/net/asio.hpp"

namespace {

const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

void serve(std::shared_ptr<asio::ip::tcp::socket> s) {
  auto buf = std::make_shared<std::string>();
  asio::async_read_until(*s, asio::dynamic_buffer(*buf, 16384), "\r\n\r\n",
                         [s, buf](asio::error_code ec, std::size_t) {
                           if (ec) return;
                           asio::async_write(*s, asio::buffer(answer), [s](asio::error_code, std::size_t) {
                             asio::error_code ignore;
                             s->shutdown(asio::ip::tcp::socket::shutdown_both, ignore);
                           });
                         });
}

void accept(asio::ip::tcp::acceptor& acc) {
  acc.async_accept([&acc](asio::error_code ec, asio::ip::tcp::socket s) {
    if (!ec) serve(std::make_shared<asio::ip::tcp::socket>(std::move(s)));
    accept(acc);
  });
}

}  // namespace

int main(int argc, char** argv) {
  asio::io_context io(1);
  const auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0);
  asio::ip::tcp::acceptor acc(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  acc.listen(4096);
  std::printf("port %u\n", static_cast<unsigned>(acc.local_endpoint().port()));
  std::fflush(stdout);
  accept(acc);
  io.run();
}
