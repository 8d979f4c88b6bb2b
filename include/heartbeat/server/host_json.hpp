// A host's /api/0/hosts entry (docs/API.md): written straight into a string,
// without a DOM, since the list renders up to 100,000 of them; and read back
// from the store's snapshot at start-up. The registry calls both on the io
// thread (the read also on the starting thread, before ingest runs).
#pragma once

#include <arpa/inet.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "heartbeat/core/json.hpp"
#include "heartbeat/server/host.hpp"

namespace heartbeat::server {

// Keeps a rendered entry in `cache` at its exact size: rendering in place would leave the string's
// doubling slack (~2x) in every host's cached entry, a real share of a million hosts' memory.
inline void assign_exact(std::string& cache, const std::string& rendered) {
  if (cache.capacity() < rendered.size() || cache.capacity() > rendered.size() + rendered.size() / 4)
    std::string(rendered).swap(cache);
  else
    cache.assign(rendered);
}

// One connection's object in a host entry.
inline void write_connection(std::string& out, const connection& c) {
  json::object_writer co(out);
  co.string("family", to_string(c.family))
      .string("address", c.address)
      .number("port", c.src.port)
      .string("state", to_string(c.state))
      .number("since", c.state_since)
      .number("last_seen", c.last_seen)
      .number("first_seen", c.first_seen)
      .number("interval", c.interval)
      .number("rtt", c.rtt)
      .number("seq", static_cast<double>(c.seq))
      .number("received", static_cast<double>(c.received))
      .number("lost", static_cast<double>(c.lost))
      .boolean("authenticated", c.authenticated);
}

// Every member of a host entry but "connections".
inline void write_host_fields(json::object_writer& o, const host& h) {
  o.string("name", h.name)
      .string("state", to_string(h.state))
      .number("state_since", h.state_since)
      .boolean("dyn", h.dyn)
      .number("ver", h.ver)
      .string("agent", h.agent)
      .number("last_seen", h.last_seen > 0 ? std::optional<double>(h.last_seen) : std::nullopt)
      .number("first_seen", h.first_seen)
      .number("down_since", h.down_since)
      .number("interval", h.interval)
      .boolean("watch", h.watch)
      .boolean("configured", h.configured)
      .boolean("authenticated", h.has_key())
      .string("owner", h.owner)
      .boolean("access_custom", h.access_overridden)
      .string("declared_owner", h.declared_owner)
      .strings("managers", h.managers)
      .strings("monitors", h.monitors)
      // Microseconds: the smoothed value carries noise digits below that.
      .number("clock_skew",
              h.clock_skew ? std::optional<double>(std::round(*h.clock_skew * 1e6) / 1e6) : std::nullopt)
      .number("loss", std::round(h.loss_rate() * 1e6) / 1e6)
      .number("boot_time", h.boot_time)
      .number("reboots", static_cast<double>(h.reboots))
      .number("request_update", h.plg_since_start ? 0 : 1)
      .strings("plugins", h.plugins, [](const auto& p) -> std::string_view { return p.first; })
      .number("commands_pending", static_cast<double>(h.pending_commands()));
}

// The entry depends only on the host (not on the time), so the list reuses it.
inline void write_host_entry(std::string& out, const host& h) {
  json::object_writer o(out);
  write_host_fields(o, h);
  o.raw("connections", [&](std::string& a) {
    a.push_back('[');
    bool first = true;
    for (const auto& c : h.conns) {
      if (!c.present) continue;
      if (!first) a.push_back(',');
      first = false;
      write_connection(a, c);
    }
    a.push_back(']');
  });
}

// The entry in the parts the store keeps apart (store_backend::put_host_row): `row` without
// "connections", and `conns` as "family\0{...}\0" per connection.
inline void write_host_row(std::string& row, std::string& conns, const host& h) {
  {
    json::object_writer o(row);
    write_host_fields(o, h);
  }
  for (const auto& c : h.conns) {
    if (!c.present) continue;
    conns += to_string(c.family);
    conns.push_back('\0');
    write_connection(conns, c);
    conns.push_back('\0');
  }
}

// Calls f(family, object) for each connection of write_host_row's `conns`.
template <class F>
void for_each_connection_part(std::string_view conns, F&& f) {
  for (std::size_t at = 0; at < conns.size();) {
    const std::size_t obj = conns.find('\0', at) + 1, end = conns.find('\0', obj);
    if (obj == 0 || end == std::string_view::npos) return;
    f(conns.substr(at, obj - 1 - at), conns.substr(obj, end - obj));
    at = end + 1;
  }
}

// The same entry as a JSON value.
inline json::value host_entry_value(const host& h) {
  std::string s;
  write_host_entry(s, h);
  auto v = json::parse(s);
  return v ? std::move(*v) : json::value::object();
}

// Fills `h` from its entry as the store saved it (`interval`: the configured
// default). Returns whether the entry carries roles set through the API
// (access_custom), which then replace the host's; otherwise its roles are left
// for the caller to derive from the configuration.
inline bool read_host_entry(const json::value& j, host& h, double now, double interval) {
  auto st = j.string_or("state", "UNKNOWN");
  for (auto s :
       {host_state::unknown, host_state::up, host_state::late, host_state::down, host_state::stopped})
    if (st == to_string(s)) h.state = s;
  h.state_since = j.number_or("state_since", now);
  h.ver = static_cast<int>(j.number_or("ver", 0));
  h.agent = j.string_or("agent", "");
  h.last_seen = j.number_or("last_seen", 0);
  h.first_seen = j.number_or("first_seen", h.last_seen);
  h.interval = j.number_or("interval", interval);
  h.down_since = j.number_or("down_since", 0);
  h.declared_owner = j.string_or("declared_owner", "");
  const bool access_custom = j.bool_or("access_custom", false);
  if (access_custom) {
    h.access_overridden = true;
    h.owner = j.string_or("owner", "");
    h.managers.clear();
    h.monitors.clear();
    if (const auto* m = j.find("managers"))
      for (const auto& x : m->as_array()) h.managers.push_back(x.as_string());
    if (const auto* m = j.find("monitors"))
      for (const auto& x : m->as_array()) h.monitors.push_back(x.as_string());
  }
  if (const auto* v = j.find("clock_skew"); v && v->is_number()) h.clock_skew = v->as_number();
  if (const auto* v = j.find("boot_time"); v && v->is_number()) h.boot_time = v->as_number();
  h.reboots = static_cast<std::uint64_t>(j.number_or("reboots", 0));
  if (const auto* cs = j.find("connections")) {
    for (const auto& cj : cs->as_array()) {
      address_family f =
          cj.string_or("family", "ipv4") == "ipv6" ? address_family::ipv6 : address_family::ipv4;
      connection& c = h.conn(f);
      c.present = true;
      c.address = cj.string_or("address", "");
      c.src.family = f;
      ::inet_pton(f == address_family::ipv4 ? AF_INET : AF_INET6, c.address.c_str(), c.src.addr.data());
      c.src.port = static_cast<std::uint16_t>(cj.number_or("port", 0));
      auto cst = cj.string_or("state", "DOWN");
      c.state = cst == "UP" ? host_state::up : cst == "LATE" ? host_state::late : host_state::down;
      c.state_since = cj.number_or("since", now);
      c.last_seen = cj.number_or("last_seen", 0);
      c.first_seen = cj.number_or("first_seen", c.last_seen);
      c.interval = cj.number_or("interval", interval);
      if (const auto* r = cj.find("rtt"); r && r->is_number()) c.rtt = r->as_number();
      c.seq = static_cast<std::uint64_t>(cj.number_or("seq", 0));
      c.received = static_cast<std::uint64_t>(cj.number_or("received", 0));
      c.lost = static_cast<std::uint64_t>(cj.number_or("lost", 0));
      c.authenticated = cj.bool_or("authenticated", false);
    }
  }
  return access_custom;
}

}  // namespace heartbeat::server
