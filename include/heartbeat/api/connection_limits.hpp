// How many HTTP connections hbd holds: at most http_max_connections over every listener and
// http_max_connections_per_ip from one client address; a connection past either limit is closed
// as soon as it is accepted, before a byte is read. Built on RESTinio's hooks: each listener's
// connection_guard is its IP blocker (counts a connection in, or refuses it) and its connection
// state listener (counts it out when it closes or becomes a WebSocket, which the hub bounds on its
// own). All listeners share one connection_limits. io thread only.
#pragma once

#include <restinio/all.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::api {

class connection_limits {
 public:
  void configure(std::size_t max_total, std::size_t max_per_ip) {
    max_total_ = max_total;
    max_per_ip_ = max_per_ip;
  }

  // Counts a new connection from `a` in; false (counted as refused) past a limit.
  bool admit(const asio::ip::address& a) {
    auto& n = per_ip_[a];
    bool ok = (!max_total_ || total_ < max_total_) && (!max_per_ip_ || n < max_per_ip_);
    if (!ok) {
      if (n == 0) per_ip_.erase(a);
      ++refused_;
      double now = clock::mono_now();
      if (now - last_log_ >= 60) {
        last_log_ = now;
        log::warn("api: refused a connection from ", a.to_string(), " (", total_, " open, ", count(a),
                  " from that address; limits http_max_connections ", max_total_,
                  ", http_max_connections_per_ip ", max_per_ip_, "); at most one such line a minute");
      }
      return false;
    }
    ++n;
    ++total_;
    return true;
  }

  void release(const asio::ip::address& a) {
    auto it = per_ip_.find(a);
    if (it == per_ip_.end()) return;
    if (--it->second == 0) per_ip_.erase(it);
    if (total_) --total_;
  }

  std::size_t open() const noexcept { return total_; }
  std::size_t count(const asio::ip::address& a) const {
    auto it = per_ip_.find(a);
    return it == per_ip_.end() ? 0 : it->second;
  }
  std::uint64_t refused() const noexcept { return refused_; }

 private:
  std::size_t max_total_ = 4096, max_per_ip_ = 64;
  std::size_t total_ = 0;
  std::map<asio::ip::address, std::size_t> per_ip_;
  std::uint64_t refused_ = 0;
  double last_log_ = -1e300;
};

// One listener's IP blocker and connection state listener (RESTinio calls both on the io thread).
// A connection is counted when the blocker lets it in and released at its `closed` or
// `upgraded_to_websocket` notice; a TLS connection whose handshake fails is closed without ever
// being `accepted`, which the pending count per address covers.
class connection_guard {
 public:
  explicit connection_guard(std::shared_ptr<connection_limits> limits) : limits_(std::move(limits)) {}

  restinio::ip_blocker::inspection_result_t inspect(
      const restinio::ip_blocker::incoming_info_t& in) noexcept {
    try {
      auto a = in.remote_endpoint().address();
      if (!limits_->admit(a)) return restinio::ip_blocker::deny();
      ++pending_[a];
      return restinio::ip_blocker::allow();
    } catch (...) {
      return restinio::ip_blocker::deny();
    }
  }

  void state_changed(const restinio::connection_state::notice_t& n) noexcept {
    try {
      auto a = n.remote_endpoint().address();
      const auto cause = n.cause();
      if (restinio::holds_alternative<restinio::connection_state::accepted_t>(cause)) {
        if (take_pending(a)) ids_[n.connection_id()] = a;
        return;
      }
      // closed or upgraded to WebSocket: out of this listener's count.
      if (auto it = ids_.find(n.connection_id()); it != ids_.end()) {
        limits_->release(it->second);
        ids_.erase(it);
      } else if (take_pending(a)) {
        limits_->release(a);
      }
    } catch (...) {
    }
  }

 private:
  std::shared_ptr<connection_limits> limits_;
  std::map<asio::ip::address, std::size_t> pending_;  // let in, not yet accepted (TLS handshake)
  std::unordered_map<restinio::connection_id_t, asio::ip::address> ids_;

  bool take_pending(const asio::ip::address& a) {
    auto it = pending_.find(a);
    if (it == pending_.end()) return false;
    if (--it->second == 0) pending_.erase(it);
    return true;
  }
};

}  // namespace heartbeat::api
