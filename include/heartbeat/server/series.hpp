// The series hbd exposes about hosts, connections, plugins and alerts: family names, types, help
// texts, label names and which leaves of a plugin's data are values. GET /metrics
// (hbd/registry_backend.hpp) and remote write (remote_write/) both build their series from these
// definitions, so a series has the same name and labels wherever it is read. Pure; any thread.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/server/host.hpp"

namespace heartbeat::server::series {

struct family {
  const char* name;
  const char* type;  // "gauge" or "counter"
  const char* help;
};

inline constexpr family host_up{"heartbeat_host_up", "gauge",
                                "1 when the host is UP (LATE counts as up), else 0."};
inline constexpr family host_state{"heartbeat_host_state", "gauge",
                                   "The host's current state (label state) has value 1."};
inline constexpr family host_last_seen{"heartbeat_host_last_seen_timestamp_seconds", "gauge",
                                       "Unix time of the host's last accepted message."};
inline constexpr family host_loss_ratio{"heartbeat_host_loss_ratio", "gauge",
                                        "Lost heartbeats / (received + lost) since the server started."};
inline constexpr family host_clock_skew{"heartbeat_host_clock_skew_seconds", "gauge",
                                        "Host clock minus server clock (smoothed)."};
inline constexpr family connection_up{"heartbeat_connection_up", "gauge",
                                      "1 when the connection (host, family) is UP or LATE."};
inline constexpr family connection_rtt{"heartbeat_connection_rtt_seconds", "gauge",
                                       "Round-trip time the client reported for the connection."};
inline constexpr family connection_received{"heartbeat_connection_heartbeats_received_total", "counter",
                                            "Heartbeats accepted on the connection."};
inline constexpr family connection_lost{"heartbeat_connection_heartbeats_lost_total", "counter",
                                        "Heartbeats missing by sequence gaps."};
inline constexpr family plugin_value{"heartbeat_plugin_value", "gauge",
                                     "Numeric leaves of each plugin's latest sample (metric = dotted path)."};
inline constexpr family plugin_sample_ts{"heartbeat_plugin_sample_timestamp_seconds", "gauge",
                                         "Unix time of each plugin's latest sample."};
inline constexpr family alert_level{"heartbeat_alert_level", "gauge",
                                    "Alert level per metric: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."};

// Label names.
inline constexpr const char* l_host = "host";
inline constexpr const char* l_state = "state";
inline constexpr const char* l_family = "family";
inline constexpr const char* l_plugin = "plugin";
inline constexpr const char* l_metric = "metric";
inline constexpr const char* l_metric_path = "metric_path";

// heartbeat_host_up and heartbeat_connection_up: LATE still counts as up.
inline double up_value(server::host_state s) noexcept {
  return s == server::host_state::up || s == server::host_state::late ? 1 : 0;
}

// The values of one plugin sample: its numeric and boolean leaves (true = 1, false = 0) with their
// dotted paths (the label `metric`), in document order; leaves inside arrays, strings, nulls, leaves
// nested deeper than 16 objects and non-finite numbers are not values. A duplicate key gives two
// values with the same path. Paths live in one buffer, so a reused instance allocates nothing
// once warm (the remote write sender parses every PLG with one).
class plugin_values {
 public:
  static constexpr int max_depth = 16;

  // Fills from a sample's data text; false (and empty) when the text is not valid JSON.
  bool parse(std::string_view data_json) {
    clear();
    handler h{*this};
    if (json::parse_sax(data_json, h, {}, scratch_) != json::parse_status::ok) {
      clear();
      return false;
    }
    return true;
  }

  void clear() {
    paths_.clear();
    items_.clear();
  }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  std::string_view metric(std::size_t i) const {
    return std::string_view(paths_).substr(items_[i].off, items_[i].len);
  }
  double value(std::size_t i) const noexcept { return items_[i].value; }

 private:
  struct item {
    std::size_t off, len;
    double value;
  };
  std::string paths_;  // every value's path, back to back
  std::vector<item> items_;
  std::string scratch_;

  // Walks the SAX events with the current path in `path`; `base` remembers where each open
  // object's own path ends, so a key replaces the previous sibling's.
  struct handler {
    explicit handler(plugin_values& o) : out(o) {}
    plugin_values& out;
    std::string path;
    std::vector<std::size_t> base;  // one per open object, the root's included
    int arrays = 0;                 // open arrays: everything inside one is skipped
    bool keyed = false;             // the next value belongs to a key (not the root)

    // A value's nesting level is the number of objects open around it (the root's members: 1).
    bool take() const { return arrays == 0 && base.size() <= static_cast<std::size_t>(max_depth); }
    void add(double v) {
      if (!take() || !std::isfinite(v)) return;
      out.items_.push_back({out.paths_.size(), path.size(), v});
      out.paths_ += path;
    }
    bool on_null() { return true; }
    bool on_bool(bool b) {
      add(b ? 1 : 0);
      return true;
    }
    bool on_number(double v, std::string_view) {
      add(v);
      return true;
    }
    bool on_string(std::string_view) { return true; }
    bool on_key(std::string_view k) {
      if (arrays) return true;
      path.resize(base.back());
      if (!path.empty()) path.push_back('.');
      path.append(k);
      return true;
    }
    bool begin_object(std::size_t) {
      if (arrays) return true;
      base.push_back(path.size());
      return true;
    }
    bool end_object(std::size_t) {
      if (arrays) return true;
      path.resize(base.back());
      base.pop_back();
      return true;
    }
    bool begin_array(std::size_t) {
      ++arrays;
      return true;
    }
    bool end_array(std::size_t) {
      --arrays;
      return true;
    }
  };
};

}  // namespace heartbeat::server::series
