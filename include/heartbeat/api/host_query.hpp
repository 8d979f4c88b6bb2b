// GET /api/0/hosts?q=&state=&role=&sort=&order= (docs/API.md): the query, its parsing, and the
// selection of one page, generic over how a backend reads its hosts. Runs on the io thread per
// request, over up to a million hosts: one pass to filter and count, then only the page is ordered.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/api/auth.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::api {

// The states in the order of X-State-Counts (and of the web UI's filter).
inline constexpr std::array<std::string_view, 5> query_states{"UP", "LATE", "DOWN", "STOPPED", "UNKNOWN"};

// The columns of the live view, each ordered as web/static/js/live.js orders it.
enum class host_sort : std::uint8_t { name, state, ipv4, ipv6, rtt, loss, last_seen };
inline constexpr std::array<std::string_view, 7> host_sort_names{"name", "state", "ipv4",     "ipv6",
                                                                 "rtt",  "loss",  "last_seen"};

struct host_query {
  std::string q;               // lower-case substring of the name; empty: every name
  int state = -1;              // index into query_states; -1: every state
  role at_least = role::none;  // only hosts the caller holds at least this role on
  host_sort sort = host_sort::name;
  bool desc = false;
  std::size_t offset = 0;
  std::size_t limit = std::numeric_limits<std::size_t>::max();
};

struct host_query_result {
  std::size_t total = 0;                // hosts matching the whole filter
  std::array<std::size_t, 5> states{};  // by query_states, for the filter without `state`
};

inline std::optional<int> parse_query_state(std::string_view s) {
  for (std::size_t i = 0; i < query_states.size(); ++i)
    if (query_states[i] == s) return static_cast<int>(i);
  return std::nullopt;
}
inline std::optional<host_sort> parse_host_sort(std::string_view s) {
  for (std::size_t i = 0; i < host_sort_names.size(); ++i)
    if (host_sort_names[i] == s) return static_cast<host_sort>(i);
  return std::nullopt;
}
// `role=`: monitor, manager or owner (the names of host entries' roles in the web UI).
inline std::optional<role> parse_query_role(std::string_view s) {
  for (role r : {role::monitor, role::manager, role::owner})
    if (s == to_string(r)) return r;
  return std::nullopt;
}

// "UP=3,LATE=0,DOWN=1,STOPPED=0,UNKNOWN=2" (the X-State-Counts header).
inline std::string state_counts_header(const host_query_result& r) {
  std::string out;
  for (std::size_t i = 0; i < query_states.size(); ++i) {
    if (i) out.push_back(',');
    out.append(query_states[i]).push_back('=');
    out += std::to_string(r.states[i]);
  }
  return out;
}

inline char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// Whether `name` contains `lower` (already lower case), ignoring ASCII case.
inline bool name_contains(std::string_view name, std::string_view lower) noexcept {
  if (lower.empty()) return true;
  if (name.size() < lower.size()) return false;
  for (std::size_t i = 0, last = name.size() - lower.size(); i <= last; ++i) {
    std::size_t j = 0;
    while (j < lower.size() && ascii_lower(name[i + j]) == lower[j]) ++j;
    if (j == lower.size()) return true;
  }
  return false;
}

// The state column's order (live.js STATE_ORDER): problems first.
inline double state_rank(std::string_view s) noexcept {
  if (s == "DOWN") return 0;
  if (s == "LATE") return 1;
  if (s == "UNKNOWN") return 2;
  if (s == "STOPPED") return 3;
  if (s == "UP") return 4;
  return 9;
}
// A connection column: its state's rank, after every present connection when absent.
inline constexpr double absent_connection_rank = 10;

// Selects the page `q` asks for from `hosts` (in name order) and calls emit(host) for each of its
// entries in order; fills `r`. `t` reads a host: t.name(h), t.state(h) (index into query_states),
// t.role_of(user, h), t.key(h, sort) (ascending sort value; ties go by name, ascending either way).
// Only the page is ordered (nth_element + partial_sort over {key, index}), never the whole list.
// `matched`, when given, lists the indexes of the hosts whose names match q.q (ascending), found by
// the caller faster than name by name; only those are looked at.
template <class Host, class Traits, class Emit>
void select_hosts(const std::vector<Host>& hosts, const std::vector<std::uint32_t>* matched, const user* who,
                  const host_query& q, const Traits& t, host_query_result& r, Emit&& emit) {
  struct keyed {
    double key;
    std::uint32_t idx;
  };
  std::vector<keyed> keys;
  std::vector<std::uint32_t> by_name;
  const bool named = q.sort == host_sort::name;
  const std::size_t candidates = matched ? matched->size() : hosts.size();
  for (std::size_t c = 0; c < candidates; ++c) {
    const std::size_t i = matched ? (*matched)[c] : c;
    const Host& h = hosts[i];
    if (who) {
      role have = t.role_of(*who, h);
      if (have == role::none || have < q.at_least) continue;
    }
    if (!matched && !q.q.empty() && !name_contains(t.name(h), q.q)) continue;
    const int st = t.state(h);
    ++r.states[static_cast<std::size_t>(st)];
    if (q.state >= 0 && st != q.state) continue;
    if (named) {
      by_name.push_back(static_cast<std::uint32_t>(i));
    } else {
      double k = t.key(h, q.sort);
      keys.push_back({q.desc ? -k : k, static_cast<std::uint32_t>(i)});
    }
  }
  const std::size_t n = named ? by_name.size() : keys.size();
  r.total = n;
  const std::size_t first = std::min(q.offset, n);
  const std::size_t last = n - first < q.limit ? n : first + q.limit;
  if (named) {
    for (std::size_t i = first; i < last; ++i) emit(hosts[by_name[q.desc ? n - 1 - i : i]]);
    return;
  }
  auto before = [](const keyed& a, const keyed& b) {
    return a.key < b.key || (a.key == b.key && a.idx < b.idx);
  };
  if (first >= last) return;
  if (first > 0)
    std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(first), keys.end(), before);
  std::partial_sort(keys.begin() + static_cast<std::ptrdiff_t>(first),
                    keys.begin() + static_cast<std::ptrdiff_t>(last), keys.end(), before);
  for (std::size_t i = first; i < last; ++i) emit(hosts[keys[i].idx]);
}

// Reads hosts as parsed /api/0/hosts entries (the backend's default, for backends without a
// registry): the same sort values live.js computes from an entry.
struct json_host_traits {
  static const json::value* conn(const json::value& h, std::string_view family) {
    if (const json::value* cs = h.find("connections"); cs && cs->is_array())
      for (const auto& c : cs->as_array())
        if (c.string_or("family", "") == family) return &c;
    return nullptr;
  }
  std::string_view name(const json::value* h) const { return h->find("name")->as_string(); }
  int state(const json::value* h) const {
    return parse_query_state(h->string_or("state", "UNKNOWN")).value_or(4);
  }
  role role_of(const user& u, const json::value* h) const {
    std::vector<std::string> managers, monitors;
    for (auto [key, out] : {std::pair{"managers", &managers}, std::pair{"monitors", &monitors}})
      if (const json::value* a = h->find(key); a && a->is_array())
        for (const auto& x : a->as_array())
          if (x.is_string()) out->push_back(x.as_string());
    return api::role_on(u, h->string_or("owner", ""), managers, monitors);
  }
  double key(const json::value* h, host_sort s) const {
    switch (s) {
      case host_sort::name: return 0;
      case host_sort::state: return state_rank(h->string_or("state", ""));
      case host_sort::ipv4:
      case host_sort::ipv6: {
        const json::value* c = conn(*h, s == host_sort::ipv4 ? "ipv4" : "ipv6");
        return c ? state_rank(c->string_or("state", "")) : absent_connection_rank;
      }
      case host_sort::rtt: {
        double best = std::numeric_limits<double>::infinity();
        if (const json::value* cs = h->find("connections"); cs && cs->is_array())
          for (const auto& c : cs->as_array())
            if (const json::value* v = c.find("rtt"); v && v->is_number() && std::isfinite(v->as_number()))
              best = std::min(best, v->as_number());
        return best;
      }
      case host_sort::loss: {
        const json::value* cs = h->find("connections");
        if (!cs || !cs->is_array() || cs->as_array().empty()) return -1;
        return h->number_or("loss", 0);
      }
      case host_sort::last_seen: {
        const json::value* v = h->find("last_seen");
        return v && v->is_number() ? -v->as_number() : 0;
      }
    }
    return 0;
  }
};

}  // namespace heartbeat::api
