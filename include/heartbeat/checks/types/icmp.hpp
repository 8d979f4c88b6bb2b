// The `icmp` check: `count` echo requests to an address, 200 ms apart, replies awaited until the
// timeout; fails only when every one is lost, and reports loss_percent and the mean rtt_ms.
// Unprivileged ICMP sockets (SOCK_DGRAM, allowed by net.ipv4.ping_group_range) first, raw
// sockets (CAP_NET_RAW) second; with neither the check says so. Asio readiness on the io thread.
#pragma once

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "heartbeat/checks/detail/read.hpp"
#include "heartbeat/checks/result.hpp"
#include "heartbeat/checks/runtime.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::checks {

namespace detail {

inline std::uint16_t icmp_checksum(const unsigned char* p, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// An ICMP socket for `v6`: unprivileged first, then raw. -1 and `why` when neither is allowed.
inline int open_icmp(bool v6, bool& raw, std::string& why) {
  const int af = v6 ? AF_INET6 : AF_INET,
            proto = v6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
  raw = false;
  int fd = ::socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd >= 0) return fd;
  const int dgram_errno = errno;
  fd = ::socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd >= 0) {
    raw = true;
    return fd;
  }
  why = std::string("ICMP not permitted: unprivileged ICMP sockets are refused (") +
        std::strerror(dgram_errno) + "; see net.ipv4.ping_group_range) and raw sockets need CAP_NET_RAW (" +
        std::strerror(errno) + ")";
  return -1;
}

}  // namespace detail

struct icmp_check {
  static constexpr std::string_view type_name = "icmp";

  std::string address;
  unsigned count = 3;

  static std::optional<icmp_check> read(config::object_reader& r) {
    icmp_check c;
    const std::size_t before = r.diag().items.size();
    r.get("address", c.address);
    if (c.address.empty())
      r.diag().error(r.key_path("address"), "is required (a host name or an IP address)");
    r.get("count", c.count, 1, 100);
    if (detail::errors_since(r.diag(), before)) return std::nullopt;
    return c;
  }

  std::string description() const {
    return "ICMP echo to " + address + " (" + std::to_string(count) + (count == 1 ? " ping)" : " pings)");
  }

  net::awaitable<check_result> run(run_context ctx) const {
    check_result res;
    auto addrs = co_await ctx.rt->resolver.resolve(address, ctx.timeout);
    if (!addrs) co_return check_result::failed(addrs.err().message);
    const asio::ip::address target = addrs->front();
    const bool v6 = target.is_v6();
    bool raw = false;
    std::string why;
    int fd = detail::open_icmp(v6, raw, why);
    if (fd < 0) co_return check_result::failed(why);
    auto ex = co_await asio::this_coro::executor;
    asio::posix::stream_descriptor sock(ex, fd);  // owns fd
    const std::uint16_t id = ++ctx.rt->ping_id;

    sockaddr_storage to{};
    socklen_t to_len;
    if (v6) {
      auto* s6 = reinterpret_cast<sockaddr_in6*>(&to);
      s6->sin6_family = AF_INET6;
      auto b = target.to_v6().to_bytes();
      std::memcpy(&s6->sin6_addr, b.data(), b.size());
      s6->sin6_scope_id = target.to_v6().scope_id();
      to_len = sizeof(sockaddr_in6);
    } else {
      auto* s4 = reinterpret_cast<sockaddr_in*>(&to);
      s4->sin_family = AF_INET;
      auto b = target.to_v4().to_bytes();
      std::memcpy(&s4->sin_addr, b.data(), b.size());
      to_len = sizeof(sockaddr_in);
    }

    std::vector<double> sent(count, 0), rtt;
    const double start = clock::mono_now();
    const double deadline = start + ctx.timeout.count() / 1000.0;
    unsigned next = 0;
    std::string send_error;
    asio::steady_timer t(ex);
    unsigned char buf[1500];
    while (rtt.size() < count) {
      const double now = clock::mono_now();
      if (now >= deadline) break;
      if (next < count && now >= start + 0.2 * next) {
        unsigned char pkt[64] = {0};
        pkt[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
        pkt[4] = static_cast<unsigned char>(id >> 8);
        pkt[5] = static_cast<unsigned char>(id);
        pkt[6] = static_cast<unsigned char>(next >> 8);
        pkt[7] = static_cast<unsigned char>(next);
        std::memcpy(pkt + 8, "heartbeat-check", 15);
        if (!v6) {
          std::uint16_t sum = detail::icmp_checksum(pkt, sizeof pkt);
          pkt[2] = static_cast<unsigned char>(sum >> 8);
          pkt[3] = static_cast<unsigned char>(sum);
        }
        sent[next] = clock::mono_now();
        if (::sendto(fd, pkt, sizeof pkt, 0, reinterpret_cast<sockaddr*>(&to), to_len) < 0)
          send_error = lower_first(std::strerror(errno));
        ++next;
        continue;
      }
      const double wake = next < count ? std::min(deadline, start + 0.2 * next) : deadline;
      t.expires_after(std::chrono::microseconds(static_cast<long long>(std::max(0.0, wake - now) * 1e6)));
      using namespace asio::experimental::awaitable_operators;
      auto r =
          co_await (sock.async_wait(asio::posix::stream_descriptor::wait_read, net::as_tuple_awaitable) ||
                    t.async_wait(net::as_tuple_awaitable));
      if (r.index() == 1) continue;
      for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        const unsigned char* p = buf;
        if (raw && !v6) {  // raw IPv4 sockets see the IP header
          const std::size_t ihl = static_cast<std::size_t>(buf[0] & 0x0f) * 4;
          if (static_cast<std::size_t>(n) < ihl + 8) continue;
          p += ihl;
          n -= static_cast<ssize_t>(ihl);
        }
        if (n < 8) continue;
        const unsigned char reply = v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY;
        if (p[0] != reply) continue;
        // Unprivileged sockets get only their own replies (the kernel owns the identifier).
        if (raw && ((p[4] << 8) | p[5]) != id) continue;
        const unsigned seq = static_cast<unsigned>((p[6] << 8) | p[7]);
        if (seq >= next || sent[seq] == 0) continue;
        rtt.push_back((clock::mono_now() - sent[seq]) * 1000.0);
        sent[seq] = 0;  // duplicates count once
      }
    }
    const double loss = 100.0 * static_cast<double>(count - rtt.size()) / count;
    res.metrics.set("loss_percent", loss);
    if (!rtt.empty()) {
      double sum = 0;
      for (double x : rtt) sum += x;
      res.response_ms = sum / static_cast<double>(rtt.size());
      res.metrics.set("rtt_ms", std::round(res.response_ms * 1000) / 1000);
      res.outcome = outcome::pass;
      co_return res;
    }
    res.error = "no reply from " + address + " (" + std::to_string(count) + " of " + std::to_string(count) +
                (count == 1 ? " ping lost" : " pings lost") +
                (send_error.empty() ? ")" : ": " + send_error + ")");
    co_return res;
  }
};

}  // namespace heartbeat::checks
