// How registry_backend reads server::host for GET /api/0/hosts?q=&state=&role=&sort=&order=
// (api/host_query.hpp): straight from the host's fields, never through its JSON entry, so a query
// over a million hosts touches only a few bytes of each. Used on the io thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

#include "heartbeat/api/host_query.hpp"
#include "heartbeat/server/host.hpp"

namespace heartbeat::hbd {

struct registry_host_traits {
  // host_state (unknown, up, late, down, stopped) -> index into api::query_states, and the state
  // column's rank (live.js STATE_ORDER).
  static constexpr int state_index[5] = {4, 0, 1, 2, 3};
  static constexpr double rank[5] = {2, 4, 1, 0, 3};

  // The entry writes numbers with at most 6 decimals: sort by the values it shows.
  static double micro(double v) { return std::round(v * 1e6) / 1e6; }

  std::string_view name(const server::host* h) const { return h->name; }
  int state(const server::host* h) const { return state_index[static_cast<std::size_t>(h->state) % 5]; }
  api::role role_of(const api::user& u, const server::host* h) const {
    return api::role_on(u, h->owner, h->managers, h->monitors);
  }
  double key(const server::host* h, api::host_sort s) const {
    switch (s) {
      case api::host_sort::name: return 0;
      case api::host_sort::state: return rank[static_cast<std::size_t>(h->state) % 5];
      case api::host_sort::ipv4:
      case api::host_sort::ipv6: {
        const auto& c =
            h->conn(s == api::host_sort::ipv4 ? server::address_family::ipv4 : server::address_family::ipv6);
        return c.present ? rank[static_cast<std::size_t>(c.state) % 5] : api::absent_connection_rank;
      }
      case api::host_sort::rtt: {
        double best = std::numeric_limits<double>::infinity();
        for (const auto& c : h->conns)
          if (c.present && c.rtt && std::isfinite(*c.rtt)) best = std::min(best, micro(*c.rtt));
        return best;
      }
      case api::host_sort::loss:
        return h->conns[0].present || h->conns[1].present ? micro(h->loss_rate()) : -1;
      case api::host_sort::last_seen: return h->last_seen > 0 ? -micro(h->last_seen) : 0;
    }
    return 0;
  }
};

}  // namespace heartbeat::hbd
