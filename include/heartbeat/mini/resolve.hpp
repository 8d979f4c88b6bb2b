// hbc_mini's name resolution without glibc's NSS (a static binary cannot load it):
// numeric addresses, then /etc/hosts, then a minimal A/AAAA query over UDP to the
// name servers of /etc/resolv.conf. Against spoofed answers: a random query id
// (getrandom), a connected socket (only the server's datagrams arrive), and an
// answer counts only with our id and our question; a truncated answer is asked
// again over TCP. Blocking, bounded by a timeout; main thread.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/readers/proc.hpp"

namespace heartbeat::mini {

// One socket address (IPv4 or IPv6).
struct address {
  sockaddr_storage sa{};
  socklen_t len = 0;

  int family() const noexcept { return sa.ss_family; }
  bool is_v4() const noexcept { return sa.ss_family == AF_INET; }
  const sockaddr* ptr() const noexcept { return reinterpret_cast<const sockaddr*>(&sa); }

  std::uint16_t port() const noexcept {
    if (is_v4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&sa)->sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&sa)->sin6_port);
  }
  std::string text() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (is_v4())
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&sa)->sin_addr, buf, sizeof buf);
    else
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&sa)->sin6_addr, buf, sizeof buf);
    return buf;
  }
  friend bool operator==(const address& a, const address& b) noexcept {
    return a.len == b.len && std::memcmp(&a.sa, &b.sa, a.len) == 0;
  }

  static address v4(const void* addr4, std::uint16_t port) {
    address a;
    auto* s = reinterpret_cast<sockaddr_in*>(&a.sa);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    std::memcpy(&s->sin_addr, addr4, 4);
    a.len = sizeof(sockaddr_in);
    return a;
  }
  static address v6(const void* addr16, std::uint16_t port) {
    address a;
    auto* s = reinterpret_cast<sockaddr_in6*>(&a.sa);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    std::memcpy(&s->sin6_addr, addr16, 16);
    a.len = sizeof(sockaddr_in6);
    return a;
  }
};

// A literal IPv4 or IPv6 address (brackets allowed around IPv6).
inline bool parse_numeric(std::string_view host, std::uint16_t port, address& out) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string h(host);
  unsigned char buf[16];
  if (::inet_pton(AF_INET, h.c_str(), buf) == 1) {
    out = address::v4(buf, port);
    return true;
  }
  if (::inet_pton(AF_INET6, h.c_str(), buf) == 1) {
    out = address::v6(buf, port);
    return true;
  }
  return false;
}

inline bool iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Addresses of `name` in hosts(5) text (canonical names and aliases, case-insensitive).
inline std::vector<address> parse_hosts(std::string_view text, std::string_view name, std::uint16_t port) {
  std::vector<address> out;
  readers::for_each_line(text, [&](std::string_view line) {
    if (auto h = line.find('#'); h != std::string_view::npos) line = line.substr(0, h);
    auto f = readers::fields(line);
    if (f.size() < 2) return;
    for (std::size_t i = 1; i < f.size(); ++i)
      if (iequal(f[i], name)) {
        address a;
        if (parse_numeric(f[0], port, a) && std::find(out.begin(), out.end(), a) == out.end())
          out.push_back(a);
        return;
      }
  });
  return out;
}

// resolv.conf(5): the `nameserver` addresses (port 53) and the `search`/`domain` suffixes.
struct resolv_conf {
  std::vector<address> servers;
  std::vector<std::string> search;
};

inline resolv_conf parse_resolv_conf(std::string_view text) {
  resolv_conf rc;
  readers::for_each_line(text, [&](std::string_view line) {
    auto f = readers::fields(line);
    if (f.size() < 2 || f[0].empty() || f[0][0] == '#' || f[0][0] == ';') return;
    if (f[0] == "nameserver") {
      std::string_view a = f[1];
      if (auto pct = a.find('%'); pct != std::string_view::npos) a = a.substr(0, pct);  // fe80::1%eth0
      address ad;
      if (parse_numeric(a, 53, ad)) rc.servers.push_back(ad);
    } else if (f[0] == "search" || f[0] == "domain") {
      rc.search.clear();
      for (std::size_t i = 1; i < f.size(); ++i) rc.search.emplace_back(f[i]);
    }
  });
  if (rc.servers.empty()) {  // resolv.conf(5): the default is the local name server
    unsigned char lo[4] = {127, 0, 0, 1};
    rc.servers.push_back(address::v4(lo, 53));
  }
  return rc;
}

namespace detail {

// A DNS query for `name` (RFC 1035), recursion desired.
inline std::string dns_query_packet(std::uint16_t id, std::string_view name, std::uint16_t qtype) {
  std::string q;
  q.push_back(static_cast<char>(id >> 8));
  q.push_back(static_cast<char>(id & 0xFF));
  q.append("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::size_t n = dot - start;
    if (n == 0 || n > 63) return {};
    q.push_back(static_cast<char>(n));
    q.append(name.substr(start, n));
    start = dot + 1;
  }
  q.push_back('\0');
  q.push_back(static_cast<char>(qtype >> 8));
  q.push_back(static_cast<char>(qtype & 0xFF));
  q.append("\x00\x01", 2);  // class IN
  return q;
}

// Skips a (possibly compressed) domain name; false when malformed.
inline bool skip_name(const unsigned char* p, std::size_t n, std::size_t& i) {
  for (int guard = 0; guard < 128; ++guard) {
    if (i >= n) return false;
    unsigned len = p[i];
    if (len == 0) {
      ++i;
      return true;
    }
    if ((len & 0xC0) == 0xC0) {
      i += 2;
      return i <= n;
    }
    if (len > 63) return false;
    i += 1 + len;
  }
  return false;
}

// A query id nobody off the path can guess (getrandom; /dev/urandom where the kernel lacks it).
inline std::uint16_t random_query_id() {
  std::uint16_t id = 0;
  if (::getrandom(&id, sizeof id, 0) == static_cast<ssize_t>(sizeof id)) return id;
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t got = ::read(fd, &id, sizeof id);
    ::close(fd);
    if (got == static_cast<ssize_t>(sizeof id)) return id;
  }
  return static_cast<std::uint16_t>(std::chrono::steady_clock::now().time_since_epoch().count() ^ ::getpid());
}

// Whether the response's question section is exactly `query`'s (one question, the same name up
// to letter case, type and class): an answer to some other question is not ours.
inline bool same_question(const unsigned char* p, std::size_t n, std::string_view query) {
  if (query.size() < 12 || n < query.size()) return false;
  if (((p[4] << 8) | p[5]) != 1) return false;
  auto low = [](unsigned char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c - 'A' + 'a') : c;
  };
  for (std::size_t i = 12; i < query.size(); ++i)
    if (low(p[i]) != low(static_cast<unsigned char>(query[i]))) return false;
  return true;
}

// The A (qtype 1) or AAAA (28) records of a response to query `id`; ok=false on a
// malformed or mismatched response (with `query`, the packet sent: also when the question
// differs), rcode != 0 gives ok=true and no address. `truncated` reports the TC bit (the
// answer must then be asked for over TCP).
inline std::vector<address> parse_dns_response(const unsigned char* p, std::size_t n, std::uint16_t id,
                                               std::uint16_t qtype, std::uint16_t port, bool& ok,
                                               std::string_view query = {}, bool* truncated = nullptr) {
  std::vector<address> out;
  ok = false;
  if (truncated) *truncated = false;
  if (n < 12) return out;
  if (((p[0] << 8) | p[1]) != id || !(p[2] & 0x80)) return out;
  if (!query.empty() && !same_question(p, n, query)) return out;
  unsigned rcode = p[3] & 0x0F;
  unsigned qd = (p[4] << 8) | p[5], an = (p[6] << 8) | p[7];
  std::size_t i = 12;
  for (unsigned k = 0; k < qd; ++k) {
    if (!skip_name(p, n, i)) return out;
    i += 4;
  }
  if (i > n) return out;
  ok = true;
  if (p[2] & 0x02) {
    if (truncated) *truncated = true;
    return out;
  }
  if (rcode != 0) return out;
  for (unsigned k = 0; k < an; ++k) {
    if (!skip_name(p, n, i) || i + 10 > n) break;
    unsigned type = (p[i] << 8) | p[i + 1], cls = (p[i + 2] << 8) | p[i + 3];
    unsigned rdlen = (p[i + 8] << 8) | p[i + 9];
    i += 10;
    if (i + rdlen > n) break;
    if (cls == 1 && type == qtype && type == 1 && rdlen == 4) out.push_back(address::v4(p + i, port));
    if (cls == 1 && type == qtype && type == 28 && rdlen == 16) out.push_back(address::v6(p + i, port));
    i += rdlen;
  }
  return out;
}

}  // namespace detail

namespace detail {

// Waits until `fd` is ready for `events` or `deadline` passes.
inline bool wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd pfd{fd, events, 0};
  return ::poll(&pfd, 1, static_cast<int>(left.count())) > 0;
}

// The same query over TCP (RFC 7766: two length bytes before each message); the answer or "".
inline std::string tcp_exchange(const address& ns, const std::string& q, double timeout) {
  auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout));
  int fd = ::socket(ns.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return {};
  std::string answer;
  auto fail = [&] {
    ::close(fd);
    return std::string();
  };
  if (::connect(fd, ns.ptr(), ns.len) != 0) {
    if (errno != EINPROGRESS || !wait_fd(fd, POLLOUT, deadline)) return fail();
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return fail();
  }
  std::string out;
  out.push_back(static_cast<char>(q.size() >> 8));
  out.push_back(static_cast<char>(q.size() & 0xFF));
  out += q;
  std::size_t sent = 0;
  while (sent < out.size()) {
    ssize_t w = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (w > 0) {
      sent += static_cast<std::size_t>(w);
    } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd, POLLOUT, deadline)) return fail();
    } else {
      return fail();
    }
  }
  std::string in;
  std::size_t want = 2;
  char buf[4096];
  while (in.size() < want) {
    if (!wait_fd(fd, POLLIN, deadline)) return fail();
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r <= 0) return fail();
    in.append(buf, static_cast<std::size_t>(r));
    if (want == 2 && in.size() >= 2)
      want = 2 + ((static_cast<unsigned char>(in[0]) << 8) | static_cast<unsigned char>(in[1]));
  }
  ::close(fd);
  return in.substr(2, want - 2);
}

}  // namespace detail

// Asks each server in turn (`timeout` seconds each) for the A or AAAA records of
// `name`; the first valid answer wins. A truncated UDP answer is asked again over TCP.
inline std::vector<address> dns_lookup(std::string_view name, std::uint16_t qtype,
                                       const std::vector<address>& servers, std::uint16_t port,
                                       double timeout = 2.0) {
  for (const address& ns : servers) {
    std::uint16_t id = detail::random_query_id();
    std::string q = detail::dns_query_packet(id, name, qtype);
    if (q.empty()) return {};
    int fd = ::socket(ns.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, ns.ptr(), ns.len) != 0 || ::send(fd, q.data(), q.size(), 0) < 0) {
      ::close(fd);
      continue;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
    unsigned char buf[1500];
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
      ssize_t got = ::recv(fd, buf, sizeof buf, 0);
      if (got < 0) break;  // ICMP unreachable: try the next server
      // Anything else (a late answer to an earlier query, a spoofed one) is ignored: keep waiting.
      bool ok = false, truncated = false;
      auto addrs =
          detail::parse_dns_response(buf, static_cast<std::size_t>(got), id, qtype, port, ok, q, &truncated);
      if (ok && truncated) {
        ::close(fd);
        fd = -1;
        std::string a = detail::tcp_exchange(ns, q, timeout);
        addrs = detail::parse_dns_response(reinterpret_cast<const unsigned char*>(a.data()), a.size(), id,
                                           qtype, port, ok, q, &truncated);
        if (ok && !truncated) return addrs;
        break;  // no usable answer over TCP either: the next server
      }
      if (ok) {
        ::close(fd);
        return addrs;
      }
    }
    if (fd >= 0) ::close(fd);
  }
  return {};
}

struct resolver_files {
  std::string hosts = "/etc/hosts";
  std::string resolv_conf = "/etc/resolv.conf";
};

// Every address of `host`: a literal, else /etc/hosts, else DNS (A and AAAA, with the
// search suffixes for names without a dot). IPv4 addresses come first.
inline std::vector<address> resolve(std::string_view host, std::uint16_t port,
                                    const resolver_files& files = {}) {
  address a;
  if (parse_numeric(host, port, a)) return {a};
  if (auto t = readers::read_file({}, files.hosts, 1u << 20)) {
    auto v = parse_hosts(*t, host, port);
    if (!v.empty()) {
      std::stable_sort(v.begin(), v.end(),
                       [](const address& x, const address& y) { return x.is_v4() && !y.is_v4(); });
      return v;
    }
  }
  resolv_conf rc;
  if (auto t = readers::read_file({}, files.resolv_conf, 1u << 16))
    rc = parse_resolv_conf(*t);
  else
    rc = parse_resolv_conf("");
  std::vector<std::string> names;
  std::string h(host);
  if (!h.empty() && h.back() == '.')
    names.push_back(h.substr(0, h.size() - 1));
  else {
    if (h.find('.') != std::string::npos) names.push_back(h);
    for (const auto& s : rc.search) names.push_back(h + "." + s);
    if (h.find('.') == std::string::npos) names.push_back(h);
  }
  for (const auto& n : names) {
    auto v4 = dns_lookup(n, 1, rc.servers, port);
    auto v6 = dns_lookup(n, 28, rc.servers, port);
    v4.insert(v4.end(), v6.begin(), v6.end());
    if (!v4.empty()) return v4;
  }
  return {};
}

}  // namespace heartbeat::mini
