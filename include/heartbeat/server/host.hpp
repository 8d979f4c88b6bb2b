// What hbd knows about one host: state, connections per address family,
// latest plugin data with a history ring, clock skew, loss, boot time and the
// command queue. Plain data owned by the registry on the io thread; the API
// reads it there and changes it only through registry methods.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/alert/types.hpp"
#include "heartbeat/core/compact_string.hpp"
#include "heartbeat/core/compact_vector.hpp"
#include "heartbeat/core/enum_names.hpp"
#include "heartbeat/core/flat_map.hpp"

namespace heartbeat::server {

enum class host_state : std::uint8_t { unknown, up, late, down, stopped };

inline constexpr enum_names<host_state::stopped> host_state_names{
    {"UNKNOWN", "UP", "LATE", "DOWN", "STOPPED"}, "UNKNOWN"};

inline const char* to_string(host_state s) noexcept { return host_state_names[s]; }

enum class address_family : std::uint8_t { ipv4 = 0, ipv6 = 1 };

inline constexpr enum_names<address_family::ipv6> address_family_names{{"ipv4", "ipv6"}, "ipv4"};

inline const char* to_string(address_family f) noexcept { return address_family_names[f]; }

// Where a datagram came from, in binary form (formatting to text only happens
// when it changes). IPv4 addresses use the first 4 bytes.
struct source {
  address_family family = address_family::ipv4;
  std::array<std::uint8_t, 16> addr{};
  std::uint16_t port = 0;
  bool operator==(const source&) const = default;
};

namespace detail {

// The address as text ("192.0.2.7", "2001:db8::7").
inline std::string format_address(const source& s) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(s.family == address_family::ipv4 ? AF_INET : AF_INET6, s.addr.data(), buf, sizeof buf);
  return buf;
}

}  // namespace detail

// One (host, address family) pair. The flags sit together in front: a million hosts hold two.
struct connection {
  address_family family = address_family::ipv4;
  bool present = false;                    // an HTB ever arrived on this family
  host_state state = host_state::unknown;  // UP, LATE or DOWN
  bool authenticated = false;              // the last HTB carried a valid envelope
  source src;
  std::string address;  // src as text
  double first_seen = 0;
  double last_seen = 0;  // wall time, shown and stored
  double heard = 0;      // monotonic time of the last HTB: LATE and DOWN are measured from it
  double state_since = 0;
  double interval = 0;  // from the last HTB
  std::uint64_t seq = 0;
  std::optional<double> rtt;   // ms, as the client reported it
  std::uint64_t received = 0;  // HTBs accepted
  std::uint64_t lost = 0;      // HTBs missing by seq gaps
};

struct plugin_sample {
  double timestamp = 0;
  std::string data_json;
};

// Latest data and the last `history_samples` samples of one plugin, in a ring
// that grows up to its capacity (no allocation per sample once full; no
// std::deque, whose minimum block would cost ~0.5 KB per plugin).
struct plugin_data {
  double interval = 0;
  std::vector<plugin_sample> ring;
  std::size_t head = 0;     // index of the oldest sample once the ring is full
  std::uint64_t total = 0;  // samples accepted since the server started (or restore)
  std::size_t bytes = 0;    // sum of the samples' data_json sizes (the registry's memory budget)

  std::size_t size() const noexcept { return ring.size(); }
  bool empty() const noexcept { return ring.empty(); }
  // i = 0 is the newest sample.
  const plugin_sample& newest(std::size_t i = 0) const {
    std::size_t n = ring.size();
    std::size_t newest_index = (head + n - 1) % n;
    return ring[(newest_index + n - i) % n];
  }
  double timestamp() const { return empty() ? 0 : newest().timestamp; }
  // Stores a sample, dropping the oldest when `cap` samples are held.
  plugin_sample& push(double ts, std::string_view data, std::size_t cap) {
    ++total;
    if (cap == 0) cap = 1;
    if (ring.size() < cap) {
      if (head != 0) normalize();
      ring.push_back({ts, std::string(data)});
      bytes += data.size();
      return ring.back();
    }
    while (ring.size() > cap) {  // the cap shrank (reload, memory budget)
      normalize();
      bytes -= ring.front().data_json.size();
      ring.erase(ring.begin());
    }
    plugin_sample& s = ring[head];
    s.timestamp = ts;
    bytes -= s.data_json.size();
    s.data_json.assign(data);
    bytes += data.size();
    head = (head + 1) % ring.size();
    return s;
  }

 private:
  void normalize() {
    if (head == 0) return;
    std::vector<plugin_sample> v;
    v.reserve(ring.size());
    for (std::size_t i = 0; i < ring.size(); ++i) v.push_back(std::move(ring[(head + i) % ring.size()]));
    ring = std::move(v);
    head = 0;
  }
};

enum class command_state : std::uint8_t { queued, sent, done, expired };

inline constexpr enum_names<command_state::expired> command_state_names{{"queued", "sent", "done", "expired"},
                                                                        "queued"};

inline const char* to_string(command_state s) noexcept { return command_state_names[s]; }

// A CMD or UPD queued for a host.
struct command_record {
  std::string id;        // cmd_id on the wire
  bool upgrade = false;  // UPD instead of CMD
  std::string command;   // CMD: a name from the client's allow-list
  std::vector<std::string> args;
  std::string version;  // UPD: optional target version
  std::string requested_by;
  double queued_at = 0;
  double expires_at = 0;    // wall time, shown and stored
  double expires_mono = 0;  // the same moment on the monotonic clock: expiry is judged by it
  double sent_at = 0;       // last delivery
  std::uint32_t sent_count = 0;
  command_state state = command_state::queued;
  std::optional<int> rc;
  std::string output;
  double done_at = 0;
  bool pending() const noexcept { return state == command_state::queued || state == command_state::sent; }
};

// The fields are ordered by size so that the record has no padding holes, and the texts and lists
// most hosts never set (key, declared owner, managers, monitors, threshold profiles, commands, the
// cached API entry) cost a pointer each: a million hosts.
struct host {
  std::string name;
  alert::host_ref alert_ref;  // the alert engine's entry for this host (skips a lookup per sample)
  std::string agent;
  // Roles, effective (config, else HTB owner, else default_owner; API changes win).
  std::string owner;
  compact_vector<std::string> managers;
  compact_vector<std::string> monitors;
  compact_vector<std::string> threshold_config;
  compact_string key;             // hosts.<name>.key: HMAC secret; empty: none
  compact_string declared_owner;  // `owner` from the host's HTB

  std::array<connection, 2> conns = make_conns();
  flat_map<std::string, plugin_data> plugins;  // by name; a few a host, a million hosts
  compact_vector<command_record> commands;     // pending first-come order, then recent finished ones

  double state_since = 0;
  double first_seen = 0;
  double last_seen = 0;              // any accepted message
  double interval = 0;               // last HTB interval, else the configured default
  std::optional<double> clock_skew;  // seconds, sender ts minus arrival time (smoothed)
  std::optional<double> boot_time;
  std::uint64_t reboots = 0;
  double last_reboot = 0;
  double down_since = 0;       // when the host last went DOWN (wall time)
  double down_mono = 0;        // the same on the monotonic clock ("was down for")
  std::int64_t due_slot = -1;  // the registry's due wheel: when tick() looks at this host next
  // Bumped by the registry on every change; the cached /api/0/hosts entry is reused while it and
  // the registry's epoch are unchanged (host_registry::entry_json). Only hosts the API listed hold one.
  std::uint64_t version = 0;
  struct cached_entry {
    std::uint64_t version = ~std::uint64_t{0};
    std::uint64_t epoch = 0;
    std::string text;
  };
  mutable std::unique_ptr<cached_entry> entry;

  int ver = 0;
  host_state state = host_state::unknown;
  bool configured = false;  // listed under hosts: in the config
  bool dyn = false;
  bool watch = true;
  bool access_overridden = false;  // set through the API (set_access); survives reloads
  bool plg_since_start = false;    // a PLG arrived since this server process started
  bool dirty = false;              // queued for the store's periodic save (registry::drain_dirty)

  static std::array<connection, 2> make_conns() {
    std::array<connection, 2> c;
    c[1].family = address_family::ipv6;
    return c;
  }
  connection& conn(address_family f) { return conns[static_cast<std::size_t>(f)]; }
  const connection& conn(address_family f) const { return conns[static_cast<std::size_t>(f)]; }
  bool has_key() const noexcept { return !key.empty(); }

  // Received and lost HTBs over every connection; loss rate = lost / (received + lost).
  double loss_rate() const noexcept {
    std::uint64_t r = 0, l = 0;
    for (const auto& c : conns) {
      r += c.received;
      l += c.lost;
    }
    return r + l == 0 ? 0.0 : static_cast<double>(l) / static_cast<double>(r + l);
  }
  std::size_t pending_commands() const noexcept {
    std::size_t n = 0;
    for (const auto& c : commands) n += c.pending();
    return n;
  }
};

}  // namespace heartbeat::server
