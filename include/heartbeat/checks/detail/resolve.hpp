// Host names to addresses for the checks: numeric addresses at once, names through Asio's
// resolver (getaddrinfo on Asio's one internal resolver thread, shared by every check, never a
// thread per check) with a short cache, so that thousands of checks of a few names cost a few
// lookups. io thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::checks::detail {

using address_list = std::vector<asio::ip::address>;

class resolver {
 public:
  explicit resolver(asio::any_io_executor ex, double ttl = 30) : r_(ex), ttl_(ttl) {}

  // The addresses of `host` (IPv4 first, in the order getaddrinfo gave them); an error says why
  // not in words ("cannot resolve db01.example.com: host not found").
  net::awaitable<heartbeat::result<address_list>> resolve(std::string host,
                                                          std::chrono::milliseconds timeout) {
    asio::error_code ec;
    auto numeric = asio::ip::make_address(
        host.size() > 2 && host.front() == '[' && host.back() == ']' ? host.substr(1, host.size() - 2) : host,
        ec);
    if (!ec) co_return address_list{numeric};
    const double now = clock::mono_now();
    if (auto it = cache_.find(host); it != cache_.end() && it->second.expires > now)
      co_return it->second.addrs;
    auto r = co_await net::with_timeout(lookup(host), timeout);
    if (!r)
      co_return make_error("resolve", "cannot resolve " + host + ": no answer within " +
                                          std::to_string(timeout.count() / 1000.0).substr(0, 4) + " s");
    if (!*r) co_return r->err();
    if (cache_.size() > 4096) cache_.clear();  // names come from the configuration: a bound, not a policy
    cache_[host] = {**r, now + ttl_};
    co_return std::move(**r);
  }

 private:
  struct entry {
    address_list addrs;
    double expires = 0;
  };
  asio::ip::tcp::resolver r_;
  double ttl_;
  std::unordered_map<std::string, entry> cache_;

  net::awaitable<heartbeat::result<address_list>> lookup(std::string host) {
    auto [ec, res] = co_await r_.async_resolve(host, "", net::as_tuple_awaitable);
    if (ec) {
      std::string why = ec == asio::error::host_not_found ? std::string("host not found") : ec.message();
      co_return make_error("resolve", "cannot resolve " + host + ": " + why);
    }
    address_list v4, v6;
    for (const auto& e : res) {
      auto a = e.endpoint().address();
      auto& list = a.is_v4() ? v4 : v6;
      bool seen = false;
      for (const auto& x : list) seen = seen || x == a;
      if (!seen) list.push_back(a);
    }
    v4.insert(v4.end(), v6.begin(), v6.end());
    if (v4.empty()) co_return make_error("resolve", "cannot resolve " + host + ": no address");
    co_return v4;
  }
};

// "db01:5432", "[2001:db8::1]:443".
inline std::string host_port(const std::string& host, unsigned port) {
  bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace heartbeat::checks::detail
