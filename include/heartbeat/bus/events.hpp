// The event bus: what the host registry emits when host state changes, data
// arrives or alerts move, and the fan-out to the journal, the store, the WebSocket
// hub, the notifier and the DNS worker. Emitted and delivered on the io thread:
// a sink must only copy what it needs and enqueue it, never block.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "heartbeat/core/enum_names.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::bus {

enum class event_kind : std::uint8_t {
  host,     // a host's state or a connection changed (data: the host as /api/0/hosts shows it)
  plugin,   // a PLG was accepted (data: {"host","plugin","data","timestamp"})
  message,  // a MSG was accepted (data: {"time","host","msg","event"})
  alert,    // an alert transition (data: the alert as /api/0/alerts shows it, plus "text", "reason", "from",
            // "to")
  command,  // a command was queued, delivered, answered or expired (data: the command record)
  reboot,   // a host rebooted (boot_time changed or seq restarted)
  dropped,  // a host was removed through the API
};

inline constexpr enum_names<event_kind::dropped> event_kind_names{
    {"host", "plugin", "message", "alert", "command", "reboot", "dropped"}, "unknown"};

inline const char* to_string(event_kind k) noexcept { return event_kind_names[k]; }

struct event {
  event_kind kind = event_kind::host;
  double ts = 0;     // Unix time of the event
  std::string host;  // the host it concerns
  json::value data;  // the payload; the WebSocket message is {"type": to_string(kind), "data": data}
  // `ts` on the monotonic clock (core/clock.hpp), for consumers that measure windows between
  // events (partition detection); 0 when the publisher has none (then `ts` stands in).
  double mono = 0;
};

using event_sink = std::function<void(const event&)>;

// Bit of one kind in a subscription's interest mask.
constexpr std::uint32_t event_bit(event_kind k) noexcept { return 1u << static_cast<unsigned>(k); }
inline constexpr std::uint32_t all_event_kinds = 0x7Fu;

// Fan-out of events to every subscribed sink, in subscription order. Each sink names the kinds
// it reads, and may name a condition under which it reads them at all (the WebSocket hub with no
// client): the registry asks `wants(kind)` before building a payload, so a PLG nobody listens to
// costs no JSON tree (the ingest hot path).
class event_bus {
 public:
  void subscribe(event_sink s, std::uint32_t kinds = all_event_kinds, std::function<bool()> active = {}) {
    sinks_.push_back({std::move(s), kinds, std::move(active)});
  }
  bool empty() const noexcept { return sinks_.empty(); }
  bool wants(event_kind k) const {
    const std::uint32_t bit = event_bit(k);
    for (const auto& s : sinks_)
      if ((s.kinds & bit) && (!s.active || s.active())) return true;
    return false;
  }
  void publish(const event& e) const {
    const std::uint32_t bit = event_bit(e.kind);
    for (const auto& s : sinks_)
      if (s.kinds & bit) s.sink(e);
  }

 private:
  struct entry {
    event_sink sink;
    std::uint32_t kinds;
    std::function<bool()> active;
  };
  std::vector<entry> sinks_;
};

}  // namespace heartbeat::bus
