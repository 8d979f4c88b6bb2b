// The `tcp` check: a TCP connect to address:port within the timeout (every resolved address in
// turn), then a close. Asio on the io thread.
#pragma once

#include <optional>
#include <string>

#include "heartbeat/checks/detail/read.hpp"
#include "heartbeat/checks/result.hpp"
#include "heartbeat/checks/runtime.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::checks {

namespace detail {

// Connects to the first address that answers before `deadline_ms` runs out; "" or why not, in
// words ("connection refused", "no answer within 10 s").
inline net::awaitable<std::string> connect_any(asio::ip::tcp::socket& s, const address_list& addrs,
                                               unsigned port, std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  const double deadline = clock::mono_now() + static_cast<double>(timeout.count()) / 1000.0;
  std::string why = "no address";
  for (const auto& a : addrs) {
    const double left = deadline - clock::mono_now();
    if (left <= 0) break;
    asio::error_code ec;
    if (s.is_open()) s.close(ec);
    asio::steady_timer t(ex);
    t.expires_after(std::chrono::microseconds(static_cast<long long>(left * 1e6)));
    auto r = co_await (s.async_connect(asio::ip::tcp::endpoint(a, static_cast<unsigned short>(port)),
                                       net::as_tuple_awaitable) ||
                       t.async_wait(net::as_tuple_awaitable));
    if (r.index() == 1) {
      why = "no answer within " + seconds_words(static_cast<double>(timeout.count()) / 1000.0);
      break;
    }
    auto [cec] = std::get<0>(r);
    if (!cec) co_return std::string();
    why = lower_first(cec.message());
  }
  if (why == "no address" && clock::mono_now() >= deadline)
    why = "no answer within " + seconds_words(static_cast<double>(timeout.count()) / 1000.0);
  asio::error_code ec;
  if (s.is_open()) s.close(ec);
  co_return why;
}

}  // namespace detail

struct tcp_check {
  static constexpr std::string_view type_name = "tcp";

  std::string address;
  unsigned port = 0;

  static std::optional<tcp_check> read(config::object_reader& r) {
    tcp_check c;
    const std::size_t before = r.diag().items.size();
    detail::address_port(r, c.address, c.port, 0);
    if (detail::errors_since(r.diag(), before)) return std::nullopt;
    return c;
  }

  std::string description() const { return "TCP connect to " + detail::host_port(address, port); }

  net::awaitable<check_result> run(run_context ctx) const {
    check_result res;
    const std::string where = detail::host_port(address, port);
    const double t0 = clock::mono_now();
    auto addrs = co_await ctx.rt->resolver.resolve(address, ctx.timeout);
    if (!addrs) co_return check_result::failed(addrs.err().message);
    asio::ip::tcp::socket s(co_await asio::this_coro::executor);
    std::string why = co_await detail::connect_any(s, *addrs, port, ctx.timeout);
    res.response_ms = (clock::mono_now() - t0) * 1000.0;
    if (!why.empty()) {
      res.error = "connect to " + where + ": " + why;
      co_return res;
    }
    asio::error_code ec;
    s.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    s.close(ec);
    res.outcome = outcome::pass;
    co_return res;
  }
};

}  // namespace heartbeat::checks
