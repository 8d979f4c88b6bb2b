// One DNS query through c-ares, driven by Asio readiness on the io thread: c-ares builds and
// parses the packets and keeps its own retry timers; this file waits on the sockets it names
// (ares_getsock) and on ares_timeout, then lets it process (ares_process_fd). A channel per query
// keeps each check's server, port and timeout its own. io thread only.
#pragma once

#include <ares.h>
#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::checks::detail {

// The record types a dns check asks for (their DNS type numbers).
enum class rr_type : int { a = 1, ns = 2, cname = 5, mx = 15, txt = 16, aaaa = 28 };

inline const char* to_string(rr_type t) noexcept {
  switch (t) {
    case rr_type::a: return "A";
    case rr_type::ns: return "NS";
    case rr_type::cname: return "CNAME";
    case rr_type::mx: return "MX";
    case rr_type::txt: return "TXT";
    case rr_type::aaaa: return "AAAA";
  }
  return "A";
}

struct dns_answer {
  int status = ARES_ENODATA;         // ARES_SUCCESS, ARES_ENOTFOUND (NXDOMAIN), ARES_ETIMEOUT, ...
  std::vector<std::string> records;  // "192.0.2.10", "10 mx.example.com", "v=spf1 -all"
};

namespace ares_detail {

inline void library_once() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

// CNAME targets of the answer section; c-ares 1.18 has no parser for them, only ares_expand_name.
inline int parse_cname(const unsigned char* buf, int len, std::vector<std::string>& out) {
  if (len < 12) return ARES_EBADRESP;
  const int qd = (buf[4] << 8) | buf[5], an = (buf[6] << 8) | buf[7];
  const unsigned char* p = buf + 12;
  auto skip_name = [&]() -> bool {
    char* name = nullptr;
    long n = 0;
    if (ares_expand_name(p, buf, len, &name, &n) != ARES_SUCCESS) return false;
    ares_free_string(name);
    p += n;
    return p <= buf + len;
  };
  for (int i = 0; i < qd; ++i) {
    if (!skip_name() || p + 4 > buf + len) return ARES_EBADRESP;
    p += 4;
  }
  for (int i = 0; i < an; ++i) {
    if (!skip_name() || p + 10 > buf + len) return ARES_EBADRESP;
    const int type = (p[0] << 8) | p[1], rdlen = (p[8] << 8) | p[9];
    p += 10;
    if (p + rdlen > buf + len) return ARES_EBADRESP;
    if (type == static_cast<int>(rr_type::cname)) {
      char* name = nullptr;
      long n = 0;
      if (ares_expand_name(p, buf, len, &name, &n) == ARES_SUCCESS) {
        out.emplace_back(name);
        ares_free_string(name);
      }
    }
    p += rdlen;
  }
  return out.empty() ? ARES_ENODATA : ARES_SUCCESS;
}

inline int parse(rr_type t, const unsigned char* buf, int len, std::vector<std::string>& out) {
  char text[INET6_ADDRSTRLEN];
  switch (t) {
    case rr_type::a: {
      ares_addrttl a[64];
      int n = 64;
      int rc = ares_parse_a_reply(buf, len, nullptr, a, &n);
      for (int i = 0; rc == ARES_SUCCESS && i < n; ++i)
        if (::inet_ntop(AF_INET, &a[i].ipaddr, text, sizeof text)) out.emplace_back(text);
      return rc;
    }
    case rr_type::aaaa: {
      ares_addr6ttl a[64];
      int n = 64;
      int rc = ares_parse_aaaa_reply(buf, len, nullptr, a, &n);
      for (int i = 0; rc == ARES_SUCCESS && i < n; ++i)
        if (::inet_ntop(AF_INET6, &a[i].ip6addr, text, sizeof text)) out.emplace_back(text);
      return rc;
    }
    case rr_type::mx: {
      ares_mx_reply* mx = nullptr;
      int rc = ares_parse_mx_reply(buf, len, &mx);
      for (auto* m = mx; rc == ARES_SUCCESS && m; m = m->next)
        out.push_back(std::to_string(m->priority) + " " + m->host);
      if (mx) ares_free_data(mx);
      return rc;
    }
    case rr_type::txt: {
      ares_txt_ext* txt = nullptr;
      int rc = ares_parse_txt_reply_ext(buf, len, &txt);
      for (auto* x = txt; rc == ARES_SUCCESS && x; x = x->next) {
        std::string chunk(reinterpret_cast<const char*>(x->txt), x->length);
        if (x->record_start || out.empty())
          out.push_back(std::move(chunk));
        else
          out.back() += chunk;
      }
      if (txt) ares_free_data(txt);
      return rc;
    }
    case rr_type::ns: {
      hostent* h = nullptr;
      int rc = ares_parse_ns_reply(buf, len, &h);
      if (rc == ARES_SUCCESS && h)
        for (char** a = h->h_aliases; a && *a; ++a) out.emplace_back(*a);
      if (h) ares_free_hostent(h);
      return rc;
    }
    case rr_type::cname: return parse_cname(buf, len, out);
  }
  return ARES_ENOTIMP;
}

struct pending {
  bool done = false;
  int status = ARES_ETIMEOUT;
  std::vector<unsigned char> buf;
};

// The descriptors of one wait round: c-ares owns the sockets, so they are released, not closed.
struct round {
  std::vector<std::shared_ptr<asio::posix::stream_descriptor>> ds;
  void release() {
    for (auto& d : ds)
      if (d->is_open()) (void)d->release();
    ds.clear();
  }
  ~round() { release(); }
};

}  // namespace ares_detail

// Asks `server` (an address; empty: the system's resolvers) on `port` for `name`'s records of
// type `t`, giving up after `timeout`.
inline net::awaitable<dns_answer> ares_query_records(std::string server, unsigned port, std::string name,
                                                     rr_type t, std::chrono::milliseconds timeout) {
  using namespace ares_detail;
  library_once();
  dns_answer ans;
  auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<pending>();
  ares_options o{};
  o.timeout = static_cast<int>(std::max<long long>(100, timeout.count()));
  o.tries = 1;
  ares_channel ch = nullptr;
  if (int rc = ares_init_options(&ch, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES); rc != ARES_SUCCESS) {
    ans.status = rc;
    co_return ans;
  }
  struct channel_guard {
    ares_channel ch;
    ~channel_guard() { ares_destroy(ch); }  // pending callbacks see ARES_EDESTRUCTION
  } guard{ch};
  if (!server.empty()) {
    ares_addr_port_node node{};
    asio::error_code ec;
    auto addr = asio::ip::make_address(server, ec);
    if (ec) {
      ans.status = ARES_EBADNAME;
      co_return ans;
    }
    if (addr.is_v4()) {
      node.family = AF_INET;
      auto b = addr.to_v4().to_bytes();
      std::memcpy(&node.addr.addr4, b.data(), b.size());
    } else {
      node.family = AF_INET6;
      auto b = addr.to_v6().to_bytes();
      std::memcpy(&node.addr.addr6, b.data(), b.size());
    }
    node.udp_port = node.tcp_port = static_cast<int>(port);
    if (int rc = ares_set_servers_ports(ch, &node); rc != ARES_SUCCESS) {
      ans.status = rc;
      co_return ans;
    }
  }
  ares_query(
      ch, name.c_str(), 1 /* class IN */, static_cast<int>(t),
      [](void* arg, int status, int, unsigned char* abuf, int alen) {
        auto* p = static_cast<pending*>(arg);
        p->done = true;
        p->status = status;
        if (abuf && alen > 0) p->buf.assign(abuf, abuf + alen);
      },
      state.get());
  const double deadline = clock::mono_now() + timeout.count() / 1000.0 + 0.5;
  round r;
  while (!state->done) {
    const double left = deadline - clock::mono_now();
    if (left <= 0) break;
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    const int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
    timeval tv{}, max{static_cast<time_t>(left), static_cast<suseconds_t>((left - std::floor(left)) * 1e6)};
    timeval* wait = ares_timeout(ch, &max, &tv);
    struct wake {
      asio::steady_timer timer;
      std::vector<std::pair<ares_socket_t, bool>> ready;  // fd, writable
      explicit wake(asio::any_io_executor e) : timer(e) {}
    };
    auto w = std::make_shared<wake>(ex);
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      const bool rd = ARES_GETSOCK_READABLE(bits, i), wr = ARES_GETSOCK_WRITABLE(bits, i);
      if (!rd && !wr) continue;
      auto d = std::make_shared<asio::posix::stream_descriptor>(ex, socks[i]);
      r.ds.push_back(d);
      for (bool writable : {false, true}) {
        if (writable ? !wr : !rd) continue;
        d->async_wait(
            writable ? asio::posix::stream_descriptor::wait_write : asio::posix::stream_descriptor::wait_read,
            [w, fd = socks[i], writable](const asio::error_code& ec) {
              if (ec) return;
              w->ready.emplace_back(fd, writable);
              w->timer.cancel();
            });
      }
    }
    w->timer.expires_after(
        std::chrono::microseconds(static_cast<long long>(wait->tv_sec) * 1000000 + wait->tv_usec));
    co_await w->timer.async_wait(net::as_tuple_awaitable);
    r.release();  // cancels the other waits; their handlers only touch `w`
    if (w->ready.empty()) ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // c-ares' own timeouts
    for (auto [fd, writable] : w->ready)
      ares_process_fd(ch, writable ? ARES_SOCKET_BAD : fd, writable ? fd : ARES_SOCKET_BAD);
  }
  if (!state->done) {
    ans.status = ARES_ETIMEOUT;
    co_return ans;
  }
  ans.status = state->status;
  if (state->status == ARES_SUCCESS)
    ans.status = parse(t, state->buf.data(), static_cast<int>(state->buf.size()), ans.records);
  co_return ans;
}

}  // namespace heartbeat::checks::detail
