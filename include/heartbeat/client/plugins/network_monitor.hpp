// network_monitor: per-interface byte and packet rates (two samples at least a
// second apart: detail/rate_gap.hpp), errors and drops (/proc/net/dev) and
// connection counts (/proc/net/sockstat{,6}; per TCP state from /proc/net/tcp{,6}
// with tcp_states: true, which costs ~2 ms of CPU per read on large hosts) via
// readers/network.hpp. Options: include_loopback (false), interfaces (list: only
// these), connections (true), tcp_states (false). hbc's io thread.
#pragma once

#include <chrono>

#include "heartbeat/client/detail/rate_gap.hpp"
#include "heartbeat/client/plugin.hpp"
#include "heartbeat/readers/network.hpp"

namespace heartbeat::client {

class network_monitor_plugin : public monitor_plugin_base<"network_monitor"> {
 public:
  explicit network_monitor_plugin(plugin_context& c) {
    c.options.get("include_loopback", loopback_);
    c.options.get("interfaces", only_);
    c.options.get("connections", connections_);
    c.options.get("tcp_states", tcp_states_);
  }
  net::awaitable<result<void>> initialize() {
    auto s = sample();
    if (!s) co_return s.err();
    prev_ = std::move(*s);
    prev_time_ = std::chrono::steady_clock::now();
    co_return result<void>{};
  }
  net::awaitable<result<json::value>> collect() {
    co_await detail::wait_rate_gap(prev_time_);
    auto s = sample();
    if (!s) co_return s.err();
    auto now = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(now - prev_time_).count();
    json::value d = readers::network_json(prev_, *s, secs, loopback_);
    prev_ = std::move(*s);
    prev_time_ = now;
    if (connections_) {
      json::value conns = readers::read_connections(tcp_states_);
      if (conns.size()) d.set("connections", std::move(conns));
    }
    co_return d;
  }

 private:
  bool loopback_ = false, connections_ = true, tcp_states_ = false;
  std::vector<std::string> only_;
  std::map<std::string, readers::iface_counters> prev_;
  std::chrono::steady_clock::time_point prev_time_;

  result<std::map<std::string, readers::iface_counters>> sample() {
    auto t = readers::read_file({}, "/proc/net/dev");
    if (!t) return t.err();
    auto m = readers::parse_net_dev(*t);
    if (!only_.empty())
      std::erase_if(
          m, [&](const auto& kv) { return std::find(only_.begin(), only_.end(), kv.first) == only_.end(); });
    return m;
  }
};

}  // namespace heartbeat::client
