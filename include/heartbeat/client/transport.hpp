// hbc's UDP side: one connection per address family of the server name (ipv4,
// ipv6), an HTB every `interval` at absolute deadlines (seq, ts, the previous
// round trip's rtt, agent, owner, boot_time), replies decoded with the protocol
// codec (ACK -> rtt and request_update, CMD/UPD -> the command runner, ERR ->
// log), PLG/MSG/RES encoding with compression over 512 bytes and the HMAC
// envelope when `key` is set. open() is retried every interval; an IPv6
// connection that never got an answer is dropped after 3 failed attempts,
// IPv4 is always retried. Runs on hbc's single io_context thread.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "heartbeat/client/config.hpp"
#include "heartbeat/client/detail/policy.hpp"
#include "heartbeat/client/outgoing.hpp"
#include "heartbeat/client/plugin.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/version.hpp"
#include "heartbeat/net/asio.hpp"
#include "heartbeat/protocol/codec.hpp"
#include "heartbeat/readers/cpu.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::client {

enum class family : std::uint8_t { ipv4, ipv6 };

inline const char* to_string(family f) noexcept {
  switch (f) {
    case family::ipv4: return "ipv4";
    case family::ipv6: return "ipv6";
  }
  return "ipv4";
}

class transport {
 public:
  using policy = detail::client_policy;
  static constexpr unsigned ipv6_startup_attempts = 3;

  struct connection {
    family fam;
    std::optional<asio::ip::udp::socket> sock;
    asio::ip::udp::endpoint ep;
    bool dropped = false;   // IPv6 given up at start-up
    bool ever_ok = false;   // an ACK arrived at least once
    unsigned failures = 0;  // consecutive failed attempts (open/send error or no ACK)
    unsigned generation = 0;
    std::uint64_t seq = 0;
    std::uint64_t sent_seq = 0;
    std::chrono::steady_clock::time_point sent_at{};
    bool awaiting_ack = false;
    std::optional<double> rtt_ms;
    std::chrono::steady_clock::time_point last_ack{};
    std::uint64_t acks = 0, sent = 0;
  };

  // Callbacks (set before run()).
  std::function<void()> on_request_update;
  std::function<void(std::size_t conn, const protocol::command_msg&)> on_command;
  std::function<void(std::size_t conn, const protocol::upgrade_msg&)> on_upgrade;

  transport(asio::any_io_executor ex, const client_config& cfg, std::string server)
      : ex_(std::move(ex)), cfg_(cfg), server_(std::move(server)), resolver_(ex_) {
    conns_[0].fam = family::ipv4;
    conns_[1].fam = family::ipv6;
    // A literal address has one family: the other connection never exists.
    asio::error_code ec;
    auto literal = asio::ip::make_address(server_, ec);
    if (!ec) conns_[literal.is_v4() ? 1 : 0].dropped = true;
    if (auto t = readers::read_file({}, "/proc/stat")) {
      auto s = readers::parse_proc_stat(*t);
      if (s.boot_time) boot_time_ = static_cast<double>(s.boot_time);
    }
  }

  const std::array<connection, 2>& connections() const { return conns_; }

  // The heartbeat loop: forever, every interval.
  net::awaitable<void> run() {
    using clock = std::chrono::steady_clock;
    asio::steady_timer timer(ex_);
    auto interval = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(cfg_.interval));
    auto next = clock::now();
    while (!stopped_) {
      co_await tick();
      next += interval;
      auto now = clock::now();
      if (next <= now) next = now + interval;
      timer.expires_at(next);
      stop_timer_ = &timer;
      co_await timer.async_wait(net::as_tuple_awaitable);
      stop_timer_ = nullptr;
    }
  }

  // Resolves and opens what is not open yet; true when any connection is open.
  net::awaitable<bool> open_all() {
    bool need = false;
    for (auto& c : conns_)
      if (!c.dropped && !c.sock) need = true;
    if (need) {
      auto addrs = co_await resolve();
      for (auto& c : conns_) {
        if (c.dropped || c.sock) continue;
        const asio::ip::udp::endpoint* ep = nullptr;
        for (const auto& a : addrs)
          if ((c.fam == family::ipv4) == a.address().is_v4()) {
            ep = &a;
            break;
          }
        if (!ep) {
          fail(c, "no " + std::string(c.fam == family::ipv4 ? "IPv4" : "IPv6") + " address for " + server_);
          continue;
        }
        open(c, *ep);
      }
    }
    for (auto& c : conns_)
      if (c.sock) co_return true;
    co_return false;
  }

  // Sends one PLG on the preferred connection. False when not sent (no
  // connection, or the datagram would be too large: logged with the plugin's name and size).
  bool send_plugin(std::string_view plugin, plugin_kind kind, double interval, const std::string& data_json) {
    protocol::plugin_msg m;
    m.name = cfg_.name;
    m.plugin = std::string(plugin);
    m.kind = to_string(kind);
    m.ts = clock::wall_now();
    if (kind == plugin_kind::monitor) m.interval = interval;
    m.data_json = data_json;
    protocol::encode<policy>(m, buf_, enc());
    if (buf_.size() > cfg_.max_datagram) {
      log::warn(plugin, ": data is ", buf_.size(), " bytes after compression, over the ", cfg_.max_datagram,
                "-byte datagram limit; not sent");
      ++oversize_;
      return false;
    }
    return send_preferred();
  }

  bool send_message(std::string_view text, protocol::msg_event ev) {
    protocol::encode<policy>(client::make_message(cfg_.name, text, ev, clock::wall_now()), buf_, enc());
    return send_preferred();
  }

  void send_result(std::size_t conn, const std::string& cmd_id, int rc, const std::string& output) {
    protocol::encode<policy>(client::make_result(cfg_.name, cmd_id, rc, output, clock::wall_now()), buf_,
                             enc());
    if (conn < conns_.size() && conns_[conn].sock && send_on(conns_[conn])) return;
    send_preferred();
  }

  void stop() {
    stopped_ = true;
    if (stop_timer_) stop_timer_->cancel();
    for (auto& c : conns_) close(c);
  }

  std::uint64_t oversize_drops() const { return oversize_; }

 private:
  asio::any_io_executor ex_;
  const client_config& cfg_;
  std::string server_;
  asio::ip::udp::resolver resolver_;
  std::array<connection, 2> conns_;
  protocol::decoder<policy> decoder_;
  protocol::message in_;
  std::string buf_;
  std::optional<double> boot_time_;
  bool stopped_ = false;
  asio::steady_timer* stop_timer_ = nullptr;
  std::uint64_t oversize_ = 0;

  protocol::encode_options enc() const {
    protocol::encode_options o;
    o.key_id = cfg_.name;
    o.key = cfg_.key;
    o.compress_over = protocol::compress_threshold;
    return o;
  }

  net::awaitable<std::vector<asio::ip::udp::endpoint>> resolve() {
    std::vector<asio::ip::udp::endpoint> out;
    std::string port = std::to_string(cfg_.hb_port);
    auto r = co_await net::with_timeout(resolve_once(port), std::chrono::seconds(5));
    if (r)
      out = std::move(*r);
    else
      log::warn("transport: resolving ", server_, " timed out");
    co_return out;
  }

  net::awaitable<std::vector<asio::ip::udp::endpoint>> resolve_once(std::string port) {
    std::vector<asio::ip::udp::endpoint> eps;
    auto [ec, res] = co_await resolver_.async_resolve(server_, port, net::as_tuple_awaitable);
    if (ec) {
      log::warn("transport: cannot resolve ", server_, ": ", ec.message());
      co_return eps;
    }
    for (const auto& e : res) eps.push_back(e.endpoint());
    co_return eps;
  }

  void open(connection& c, const asio::ip::udp::endpoint& ep) {
    asio::error_code ec;
    asio::ip::udp::socket s(ex_);
    s.open(ep.protocol(), ec);
    net::close_on_exec(s);
    if (!ec) s.connect(ep, ec);
    if (!ec) s.non_blocking(true, ec);
    if (ec) {
      fail(c, "cannot open " + ep.address().to_string() + ": " + ec.message());
      return;
    }
    c.sock.emplace(std::move(s));
    c.ep = ep;
    ++c.generation;
    log::info("transport: ", to_string(c.fam), " connection to ", ep.address().to_string(), " port ",
              ep.port());
    net::spawn(ex_, receive_loop(c, c.generation), std::string("transport ") + to_string(c.fam));
  }

  void close(connection& c) {
    if (!c.sock) return;
    asio::error_code ec;
    c.sock->close(ec);
    c.sock.reset();
    c.awaiting_ack = false;
  }

  // Counts a failed attempt; drops IPv6 that never worked after 3 of them;
  // a connection that keeps failing is closed so the next tick resolves again.
  void fail(connection& c, const std::string& why) {
    ++c.failures;
    if (c.failures == 1 || c.failures % 10 == 0)
      log::warn("transport: ", to_string(c.fam), ": ", why, " (", c.failures, " in a row)");
    // (Not when IPv6 is the only family there is: a literal IPv6 server address.)
    if (c.fam == family::ipv6 && !c.ever_ok && c.failures >= ipv6_startup_attempts && !conns_[0].dropped) {
      log::info("transport: ipv6: no answer after ", c.failures, " attempts, dropping the IPv6 connection");
      close(c);
      c.dropped = true;
      return;
    }
    if (c.failures >= 3) close(c);
  }

  net::awaitable<void> tick() {
    for (auto& c : conns_)
      if (c.sock && c.awaiting_ack) fail(c, "no ACK for HTB " + std::to_string(c.sent_seq));
    co_await open_all();
    for (auto& c : conns_) {
      if (!c.sock) continue;
      auto h = make_heartbeat(cfg_, ++c.seq, clock::wall_now(), c.rtt_ms, std::string("hbc/") + version,
                              boot_time_);
      protocol::encode<policy>(h, buf_, enc());
      if (!send_on(c)) continue;
      c.sent_seq = h.seq;
      c.sent_at = std::chrono::steady_clock::now();
      c.awaiting_ack = true;
    }
  }

  bool send_on(connection& c) {
    asio::error_code ec;
    c.sock->send(asio::buffer(buf_), 0, ec);
    if (ec == asio::error::connection_refused) c.sock->send(asio::buffer(buf_), 0, ec);  // stale ICMP error
    if (ec) {
      fail(c, "send failed: " + ec.message());
      return false;
    }
    ++c.sent;
    return true;
  }

  // The connection that answered last; before any answer, the first open one (IPv4 first).
  bool send_preferred() {
    connection* best = nullptr;
    for (auto& c : conns_) {
      if (!c.sock) continue;
      if (!best || (c.acks && c.last_ack > best->last_ack)) best = &c;
    }
    if (!best) {
      log::warn("transport: no connection to ", server_, "; datagram not sent");
      return false;
    }
    return send_on(*best);
  }

  net::awaitable<void> receive_loop(connection& c, unsigned generation) {
    std::vector<std::uint8_t> buf(65536);
    while (!stopped_ && c.sock && c.generation == generation) {
      auto [ec, n] = co_await c.sock->async_receive(asio::buffer(buf), net::as_tuple_awaitable);
      if (stopped_ || !c.sock || c.generation != generation) co_return;
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) continue;  // ICMP errors (connection refused) surface here; the no-ACK rule counts them
      handle(c, std::span<const std::uint8_t>(buf.data(), n));
    }
  }

  void handle(connection& c, std::span<const std::uint8_t> d) {
    if (!decode_reply(decoder_, cfg_, d, in_, "transport")) return;
    std::size_t idx = static_cast<std::size_t>(&c - conns_.data());
    switch (in_.type) {
      case protocol::msg_type::ack: {
        const auto& a = in_.ack;
        if (c.awaiting_ack && a.seq == c.sent_seq) {
          auto rtt = std::chrono::steady_clock::now() - c.sent_at;
          c.rtt_ms = std::chrono::duration<double, std::milli>(rtt).count();
          c.awaiting_ack = false;
        }
        if (!c.ever_ok) log::info("transport: ", to_string(c.fam), ": server answered");
        c.ever_ok = true;
        c.failures = 0;
        c.last_ack = std::chrono::steady_clock::now();
        ++c.acks;
        if (a.request_update && on_request_update) on_request_update();
        break;
      }
      case protocol::msg_type::cmd:
        if (command_allowed(in_, cfg_) && on_command) on_command(idx, in_.cmd);
        break;
      case protocol::msg_type::upd:
        if (command_allowed(in_, cfg_) && on_upgrade) on_upgrade(idx, in_.upd);
        break;
      case protocol::msg_type::err: log::warn("transport: server says: ", in_.err.error); break;
      default: break;
    }
  }
};

}  // namespace heartbeat::client
