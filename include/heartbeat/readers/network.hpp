// Pure readers behind network_monitor: /proc/net/dev (per-interface counters,
// rates between two samples, errors, drops) and /proc/net/tcp, tcp6 (connection
// counts by state). Standard library and POSIX only (hbc_mini shares it);
// a net_reader belongs to one thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "heartbeat/core/json.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::readers {

struct iface_counters {
  std::uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
  std::uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
};

inline std::map<std::string, iface_counters> parse_net_dev(std::string_view text) {
  std::map<std::string, iface_counters> out;
  for_each_line(text, [&](std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string_view name = trim(line.substr(0, colon));
    auto f = fields(line.substr(colon + 1));
    if (name.empty() || f.size() < 16) return;
    iface_counters c;
    c.rx_bytes = to_u64(f[0]);
    c.rx_packets = to_u64(f[1]);
    c.rx_errors = to_u64(f[2]);
    c.rx_dropped = to_u64(f[3]);
    c.tx_bytes = to_u64(f[8]);
    c.tx_packets = to_u64(f[9]);
    c.tx_errors = to_u64(f[10]);
    c.tx_dropped = to_u64(f[11]);
    out.emplace(std::string(name), c);
  });
  return out;
}

// TCP connection states as /proc/net/tcp numbers them (include/net/tcp_states.h).
inline const char* tcp_state_name(unsigned st) noexcept {
  switch (st) {
    case 0x01: return "established";
    case 0x02: return "syn_sent";
    case 0x03: return "syn_recv";
    case 0x04: return "fin_wait1";
    case 0x05: return "fin_wait2";
    case 0x06: return "time_wait";
    case 0x07: return "close";
    case 0x08: return "close_wait";
    case 0x09: return "last_ack";
    case 0x0A: return "listen";
    case 0x0B: return "closing";
    default: return "other";
  }
}

// Internal: a hex digit's value (0 for anything else).
inline int detail_hex(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

// Adds the connections of one /proc/net/tcp or tcp6 file to `counts` (by state name).
inline void count_tcp_states(std::string_view text, std::map<std::string, std::uint64_t>& counts) {
  bool first = true;
  for_each_line(text, [&](std::string_view line) {
    if (first) {  // header
      first = false;
      return;
    }
    auto f = fields(line);
    if (f.size() < 4) return;
    unsigned st = 0;
    for (char c : f[3]) st = st * 16 + static_cast<unsigned>(detail_hex(c));
    ++counts[tcp_state_name(st)];
  });
}

// The "connections" object: total plus one count per state seen (established,
// listen, time_wait, ...); every state key is present so thresholds always find it.
inline json::value connections_json(const std::map<std::string, std::uint64_t>& counts) {
  json::value c = json::value::object();
  std::uint64_t total = 0;
  for (const auto& [_, n] : counts) total += n;
  c.set("total", static_cast<unsigned long long>(total));
  for (unsigned st = 1; st <= 0x0B; ++st) {
    auto it = counts.find(tcp_state_name(st));
    c.set(tcp_state_name(st), static_cast<unsigned long long>(it == counts.end() ? 0 : it->second));
  }
  return c;
}

// Socket totals from /proc/net/sockstat and sockstat6 (cheap: reading
// /proc/net/tcp walks the kernel's whole connection hash table, ~2 ms of CPU on
// a large-memory host even with few sockets). Adds to `out`: tcp_inuse,
// tcp6_inuse, time_wait, orphan, udp_inuse, udp6_inuse, and total (TCP in use
// plus TIME_WAIT) when `total` is not yet set.
inline void add_sockstat(std::string_view sockstat, std::string_view sockstat6, json::value& out) {
  std::uint64_t tcp = 0, tcp6 = 0, tw = 0;
  auto scan = [&](std::string_view text, bool v6) {
    for_each_line(text, [&](std::string_view line) {
      auto f = fields(line);
      if (f.empty()) return;
      for (std::size_t i = 1; i + 1 < f.size(); i += 2) {
        std::uint64_t v = to_u64(f[i + 1]);
        if ((f[0] == "TCP:" || f[0] == "TCP6:") && f[i] == "inuse") (v6 ? tcp6 : tcp) = v;
        if (f[0] == "TCP:" && f[i] == "tw") tw = v;
        if (f[0] == "TCP:" && f[i] == "orphan") out.set("orphan", static_cast<unsigned long long>(v));
        if ((f[0] == "UDP:" || f[0] == "UDP6:") && f[i] == "inuse")
          out.set(v6 ? "udp6_inuse" : "udp_inuse", static_cast<unsigned long long>(v));
      }
    });
  };
  scan(sockstat, false);
  scan(sockstat6, true);
  out.set("tcp_inuse", static_cast<unsigned long long>(tcp));
  out.set("tcp6_inuse", static_cast<unsigned long long>(tcp6));
  if (!out.contains("time_wait")) out.set("time_wait", static_cast<unsigned long long>(tw));
  if (!out.contains("total")) out.set("total", static_cast<unsigned long long>(tcp + tcp6 + tw));
}

// The `connections` object of network_monitor: socket totals from
// /proc/net/sockstat{,6}, plus per-TCP-state counts from /proc/net/tcp{,6} when
// `tcp_states` (costly on large hosts, so off by default). Empty when nothing
// could be read. Shared by hbc and hbc_mini.
inline json::value read_connections(bool tcp_states) {
  json::value conns = json::value::object();
  if (tcp_states) {
    std::map<std::string, std::uint64_t> counts;
    for (const char* f : {"/proc/net/tcp", "/proc/net/tcp6"})
      if (auto t = read_file({}, f, 64u << 20)) count_tcp_states(*t, counts);
    conns = connections_json(counts);
  }
  auto s4 = read_file({}, "/proc/net/sockstat", 4096);
  auto s6 = read_file({}, "/proc/net/sockstat6", 4096);
  if (s4 || s6) add_sockstat(s4 ? *s4 : std::string(), s6 ? *s6 : std::string(), conns);
  return conns;
}

// The network_monitor data object from two /proc/net/dev samples `seconds`
// apart: interfaces.<if>.{rx,tx}_{bytes,packets}_per_sec, {rx,tx}_{bytes,errors,
// dropped} (counters since boot), then errors_total and dropped_total over all
// reported interfaces. Loopback is left out unless include_loopback.
inline json::value network_json(const std::map<std::string, iface_counters>& before,
                                const std::map<std::string, iface_counters>& after, double seconds,
                                bool include_loopback = false) {
  json::value d = json::value::object();
  json::value ifs = json::value::object();
  std::uint64_t errors = 0, dropped = 0;
  double rx_rate_total = 0, tx_rate_total = 0;
  auto rate = [&](std::uint64_t a, std::uint64_t b) {
    return seconds > 0 && b >= a ? static_cast<double>(b - a) / seconds : 0.0;
  };
  for (const auto& [name, c] : after) {
    if (!include_loopback && name == "lo") continue;
    auto it = before.find(name);
    iface_counters prev = it == before.end() ? c : it->second;
    json::value i = json::value::object();
    double rxr = rate(prev.rx_bytes, c.rx_bytes), txr = rate(prev.tx_bytes, c.tx_bytes);
    rx_rate_total += rxr;
    tx_rate_total += txr;
    i.set("rx_bytes_per_sec", round_to(rxr));
    i.set("tx_bytes_per_sec", round_to(txr));
    i.set("rx_packets_per_sec", round_to(rate(prev.rx_packets, c.rx_packets), 2));
    i.set("tx_packets_per_sec", round_to(rate(prev.tx_packets, c.tx_packets), 2));
    i.set("rx_bytes", static_cast<unsigned long long>(c.rx_bytes));
    i.set("tx_bytes", static_cast<unsigned long long>(c.tx_bytes));
    i.set("rx_errors", static_cast<unsigned long long>(c.rx_errors));
    i.set("tx_errors", static_cast<unsigned long long>(c.tx_errors));
    i.set("rx_dropped", static_cast<unsigned long long>(c.rx_dropped));
    i.set("tx_dropped", static_cast<unsigned long long>(c.tx_dropped));
    errors += c.rx_errors + c.tx_errors;
    dropped += c.rx_dropped + c.tx_dropped;
    ifs.set(name, std::move(i));
  }
  d.set("interfaces", std::move(ifs));
  d.set("rx_bytes_per_sec", round_to(rx_rate_total));
  d.set("tx_bytes_per_sec", round_to(tx_rate_total));
  d.set("errors_total", static_cast<unsigned long long>(errors));
  d.set("dropped_total", static_cast<unsigned long long>(dropped));
  return d;
}

}  // namespace heartbeat::readers
