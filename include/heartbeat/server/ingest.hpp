// UDP ingest: the IPv4 and IPv6 sockets on hb_port, one receive coroutine per
// socket that drains the socket with recvmmsg in batches, decodes each datagram
// (envelope, inflate, JSON, validation), applies it to the registry and
// answers HTBs with an ACK (+ pending CMD/UPD) to the source endpoint, batched
// with sendmmsg. A datagram the registry's admission refuses (admission.hpp) is
// counted and dropped unanswered. Runs on the io thread; the hot path allocates
// nothing in the steady state (reused buffers, decode target and reply strings)
// and never locks. Each socket is a source of the registry's liveness clock:
// the loop reports when it read the socket empty, so the monitor never judges a
// heartbeat late while it waits unread in the socket buffer.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/net/asio.hpp"
#include "heartbeat/protocol/codec.hpp"
#include "heartbeat/server/config.hpp"
#include "heartbeat/server/host_registry.hpp"
#include "heartbeat/server/stats.hpp"

namespace heartbeat::server {

template <class Policy>
class ingest {
 public:
  static constexpr unsigned batch = 64;  // datagrams per recvmmsg
  static constexpr std::size_t max_datagram = 65536;
  static constexpr unsigned batches_per_yield = 8;  // let timers and HTTP run under sustained load

  ingest(asio::io_context& io, host_registry& reg, stats& st) : io_(io), reg_(reg), stats_(st) {}
  ingest(const ingest&) = delete;
  ingest& operator=(const ingest&) = delete;

  // Decoder limits from the config (start-up and reload).
  void configure(const config& c) {
    protocol::decode_options o;
    o.max_message_bytes = c.max_message_bytes;
    o.auth_window = c.auth_window;
    // accept_hosts: authenticated admits only datagrams with a valid envelope.
    o.require_auth = c.require_auth || c.admission.accept_hosts == accept_mode::authenticated;
    decoder_.set_options(o);
  }

  // Binds IPv4 and IPv6 (v6only) on `port` (0: an ephemeral port, the same for both).
  // `host` empty: every interface; else one address of either family.
  result<void> open(const std::string& host, std::uint16_t port, std::uint32_t rcvbuf) {
    asio::error_code ec;
    if (host.empty()) {
      if (auto r = open_one(asio::ip::udp::endpoint(asio::ip::address_v4::any(), port), rcvbuf, v4_); !r)
        return r;
      std::uint16_t actual = v4_->local_endpoint().port();
      auto r6 = open_one(asio::ip::udp::endpoint(asio::ip::address_v6::any(), actual), rcvbuf, v6_);
      if (!r6) {
        log::warn("ingest: no IPv6 listener (", r6.err().message, "); IPv4 only");
        v6_.reset();
      }
      return {};
    }
    auto addr = asio::ip::make_address(host, ec);
    if (ec) return make_error("bad_address", "hb_host: not an IP address: " + host);
    auto& slot = addr.is_v4() ? v4_ : v6_;
    return open_one(asio::ip::udp::endpoint(addr, port), rcvbuf, slot);
  }

  std::uint16_t port() const {
    if (v4_) return v4_->local_endpoint().port();
    if (v6_) return v6_->local_endpoint().port();
    return 0;
  }

  void start() {
    if (v4_) net::spawn(io_, receive_loop(*v4_, address_family::ipv4, watch(*v4_, v4_live_)), "ingest(ipv4)");
    if (v6_) net::spawn(io_, receive_loop(*v6_, address_family::ipv6, watch(*v6_, v6_live_)), "ingest(ipv6)");
  }

  void close() {
    for (int* id : {&v4_live_, &v6_live_}) {
      if (*id >= 0) reg_.liveness().remove_source(*id);
      *id = -1;
    }
    asio::error_code ec;
    if (v4_) v4_->close(ec);
    if (v6_) v6_->close(ec);
  }

 private:
  asio::io_context& io_;
  host_registry& reg_;
  stats& stats_;
  protocol::decoder<Policy> decoder_;
  protocol::message msg_;  // reused decode target
  std::unique_ptr<asio::ip::udp::socket> v4_, v6_;
  int v4_live_ = -1, v6_live_ = -1;  // the sockets' ids on the liveness clock

  // Makes `s` a source of the liveness clock: empty when poll() finds nothing to read.
  int watch(asio::ip::udp::socket& s, int& id) {
    const int fd = s.native_handle();
    id = reg_.liveness().add_source(
        [fd] {
          pollfd p{fd, POLLIN, 0};
          return ::poll(&p, 1, 0) == 0;
        },
        clock::mono_now());
    return id;
  }

  // Receive side: `batch` slots of max_datagram bytes (never zeroed: only the
  // bytes a datagram writes are ever touched).
  std::unique_ptr<std::uint8_t[]> rx_buf_{new std::uint8_t[batch * max_datagram]};
  mmsghdr rx_hdr_[batch]{};
  iovec rx_iov_[batch]{};
  sockaddr_storage rx_addr_[batch]{};

  // Send side: replies queued during one batch, sent with one sendmmsg.
  static constexpr unsigned max_replies = batch * 2;
  std::string tx_buf_[max_replies];
  mmsghdr tx_hdr_[max_replies]{};
  iovec tx_iov_[max_replies]{};
  sockaddr_storage tx_addr_[max_replies]{};
  socklen_t tx_addr_len_[max_replies]{};
  unsigned tx_count_ = 0;

  result<void> open_one(const asio::ip::udp::endpoint& ep, std::uint32_t rcvbuf,
                        std::unique_ptr<asio::ip::udp::socket>& out) {
    asio::error_code ec;
    auto s = std::make_unique<asio::ip::udp::socket>(io_);
    s->open(ep.protocol(), ec);
    if (ec) return make_error("socket", "udp socket: " + ec.message());
    net::close_on_exec(*s);
    if (ep.address().is_v6()) s->set_option(asio::ip::v6_only(true), ec);
    s->bind(ep, ec);
    if (ec) {
      return make_error("bind", "cannot listen on udp " + endpoint_text(ep) + ": " + ec.message());
    }
    s->non_blocking(true, ec);
    set_rcvbuf(s->native_handle(), rcvbuf);
    log::info("ingest: listening on udp ", endpoint_text(s->local_endpoint()));
    out = std::move(s);
    return {};
  }

  static std::string endpoint_text(const asio::ip::udp::endpoint& ep) {
    std::string a = ep.address().to_string();
    if (ep.address().is_v6()) a = "[" + a + "]";
    return a + ":" + std::to_string(ep.port());
  }

  // SO_RCVBUFFORCE as root (ignores rmem_max), else SO_RCVBUF; logs what the kernel granted.
  void set_rcvbuf(int fd, std::uint32_t want) {
    int v = static_cast<int>(want);
    bool forced = ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) == 0;
    if (!forced) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    int got = 0;
    socklen_t len = sizeof got;
    ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
    // The kernel reports twice the usable size it granted (bookkeeping overhead).
    stats_.udp_rcvbuf_bytes = static_cast<std::uint64_t>(got);
    if (static_cast<std::uint64_t>(got) < want)
      log::warn("ingest: udp receive buffer is ", got, " bytes, asked for ", want,
                " (raise net.core.rmem_max or run as root to get SO_RCVBUFFORCE)");
    else
      log::info("ingest: udp receive buffer ", got, " bytes", forced ? " (SO_RCVBUFFORCE)" : "");
  }

  net::awaitable<void> receive_loop(asio::ip::udp::socket& s, address_family fam, int live_id) {
    const int fd = s.native_handle();
    for (unsigned i = 0; i < batch; ++i) {
      rx_iov_[i] = {rx_buf_.get() + i * max_datagram, max_datagram};
    }
    for (;;) {
      auto [ec] = co_await s.async_wait(asio::ip::udp::socket::wait_read, net::as_tuple_awaitable);
      if (ec == asio::error::operation_aborted || !s.is_open()) co_return;
      if (ec) {
        log::warn("ingest: wait failed: ", ec.message());
        co_await net::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      unsigned batches = 0, errors = 0;
      for (;;) {
        for (unsigned i = 0; i < batch; ++i) {
          rx_hdr_[i].msg_hdr.msg_name = &rx_addr_[i];
          rx_hdr_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
          rx_hdr_[i].msg_hdr.msg_iov = &rx_iov_[i];
          rx_hdr_[i].msg_hdr.msg_iovlen = 1;
          rx_hdr_[i].msg_hdr.msg_control = nullptr;
          rx_hdr_[i].msg_hdr.msg_controllen = 0;
          rx_hdr_[i].msg_hdr.msg_flags = 0;
        }
        int n = ::recvmmsg(fd, rx_hdr_, batch, MSG_DONTWAIT, nullptr);
        // A pending socket error (ECONNREFUSED from an ICMP reply, EINTR) is consumed
        // by the failing call: read again, or queued datagrams would wait for the next edge.
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && ++errors < 16) continue;
        if (n <= 0) {  // EAGAIN: drained
          if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
            reg_.liveness().drained(live_id, clock::mono_now());
          break;
        }
        ++stats_.receive_batches;
        const clock::instant now = clock::now();
        for (int i = 0; i < n; ++i) {
          const mmsghdr& h = rx_hdr_[i];
          handle(std::span<const std::uint8_t>(rx_buf_.get() + i * max_datagram, h.msg_len),
                 h.msg_hdr.msg_flags, rx_addr_[i], fam, now);
        }
        flush(fd);
        // Read again until EAGAIN rather than after a short batch: under load more
        // datagrams have arrived meanwhile, and going back through epoll_wait and
        // the executor per batch costs more than one empty recvmmsg when idle.
        if (++batches >= batches_per_yield) {
          batches = 0;
          co_await net::yield_now();
          if (!s.is_open()) co_return;
        }
      }
    }
  }

  static source to_source(const sockaddr_storage& sa) {
    source src;
    if (sa.ss_family == AF_INET6) {
      const auto& a = reinterpret_cast<const sockaddr_in6&>(sa);
      src.family = address_family::ipv6;
      std::memcpy(src.addr.data(), &a.sin6_addr, 16);
      src.port = ntohs(a.sin6_port);
    } else {
      const auto& a = reinterpret_cast<const sockaddr_in&>(sa);
      src.family = address_family::ipv4;
      std::memcpy(src.addr.data(), &a.sin_addr, 4);
      src.port = ntohs(a.sin_port);
    }
    return src;
  }

  void handle(std::span<const std::uint8_t> data, int flags, const sockaddr_storage& from, address_family fam,
              clock::instant now) {
    ++stats_.datagrams_received;
    stats_.bytes_received += data.size();
    if (flags & MSG_TRUNC) {
      stats_.count_reject(protocol::reject::too_large);
      return;
    }
    auto keys = [this](std::string_view name) -> const std::string* { return reg_.key_for(name); };
    protocol::reject r = decoder_.decode(data, now.wall, keys, msg_);
    if (r != protocol::reject::none) {
      stats_.count_reject(r);
      if (log::enabled(log::level::debug))
        log::debug("ingest: dropped a datagram of ", data.size(), " bytes: ", protocol::to_string(r));
      return;
    }
    source src = to_source(from);
    src.family = fam;
    switch (msg_.type) {
      case protocol::msg_type::htb: {
        heartbeat_result hr = reg_.on_heartbeat(msg_.htb, msg_.authenticated, src, now);
        if (!hr.h) return refuse(hr.refused);
        const std::string* key = msg_.authenticated ? reg_.key_for(msg_.htb.name) : nullptr;
        protocol::encode_options eo;
        eo.now = now.wall;
        if (key) {
          eo.key_id = msg_.htb.name;
          eo.key = *key;
        }
        protocol::ack_msg ack;
        ack.seq = msg_.htb.seq;
        ack.ts = msg_.htb.ts;
        ack.server_ts = now.wall;
        ack.request_update = hr.request_update;
        if (std::string* out = reply_slot(from)) {
          protocol::encode<Policy>(ack, *out, eo);
          ++stats_.acks_sent;
        }
        if (key) {
          reg_.deliver_commands(*hr.h, true, now, [&](const command_record& c) {
            std::string* out = reply_slot(from);
            if (!out) return false;
            if (c.upgrade) {
              protocol::upgrade_msg u;
              u.cmd_id = c.id;
              u.version = c.version;
              protocol::encode<Policy>(u, *out, eo);
            } else {
              protocol::command_msg cm;
              cm.cmd_id = c.id;
              cm.command = c.command;
              cm.args = c.args;
              protocol::encode<Policy>(cm, *out, eo);
            }
            ++stats_.commands_sent;
            return true;
          });
        }
        journal(data, src, hr.h->conn(fam).address, now.wall);
        break;
      }
      case protocol::msg_type::plg: {
        apply_result ar = reg_.on_plugin(msg_.plg, src, now);
        if (!ar.h) return refuse(ar.refused);
        // The source's text form is usually the one its heartbeats already made.
        const connection& c = ar.h->conn(fam);
        journal(data, src, c.present && c.src == src ? std::string_view(c.address) : std::string_view(),
                now.wall);
        break;
      }
      case protocol::msg_type::msg: {
        apply_result ar = reg_.on_message(msg_.msg, src, now);
        if (!ar.h) return refuse(ar.refused);
        journal(data, src, {}, now.wall);
        break;
      }
      case protocol::msg_type::res:
        reg_.on_result(msg_.res, msg_.authenticated, src, now);
        journal(data, src, {}, now.wall);
        break;
      default:  // a server-to-client message sent to the server: ignored, never answered
        ++stats_.unexpected_type;
        return;
    }
    ++stats_.datagrams_accepted;
    ++stats_.accepted_by_type[static_cast<std::size_t>(msg_.type)];
  }

  // Admission refused the datagram: counted by reason, nothing changed, no answer.
  void refuse(protocol::reject why) { stats_.count_reject(why); }

  void journal(std::span<const std::uint8_t>, const source& src, std::string_view address, double now) {
    auto& hook = reg_.hooks().journal_message;
    if (!hook) return;
    if (address.empty()) {
      std::string a = detail::format_address(src);
      hook(msg_, decoder_.last_text(), src, a, now);
    } else {
      hook(msg_, decoder_.last_text(), src, address, now);
    }
  }

  // A reply buffer addressed to `to`, or nullptr when the batch is full (counted).
  std::string* reply_slot(const sockaddr_storage& to) {
    if (tx_count_ >= max_replies) {
      ++stats_.replies_dropped;
      return nullptr;
    }
    unsigned i = tx_count_++;
    tx_addr_[i] = to;
    tx_addr_len_[i] = to.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    return &tx_buf_[i];
  }

  void flush(int fd) {
    unsigned sent = 0;
    for (unsigned i = 0; i < tx_count_; ++i) {
      tx_iov_[i] = {tx_buf_[i].data(), tx_buf_[i].size()};
      tx_hdr_[i] = {};
      tx_hdr_[i].msg_hdr.msg_name = &tx_addr_[i];
      tx_hdr_[i].msg_hdr.msg_namelen = tx_addr_len_[i];
      tx_hdr_[i].msg_hdr.msg_iov = &tx_iov_[i];
      tx_hdr_[i].msg_hdr.msg_iovlen = 1;
    }
    while (sent < tx_count_) {
      int n = ::sendmmsg(fd, tx_hdr_ + sent, tx_count_ - sent, MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<unsigned>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      // EAGAIN (send buffer full) or a per-destination error: drop this reply, go on.
      ++stats_.replies_dropped;
      ++sent;
    }
    tx_count_ = 0;
  }
};

}  // namespace heartbeat::server
