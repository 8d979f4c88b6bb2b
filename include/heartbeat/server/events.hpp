// Events the registry emits when host state changes, data arrives or alerts
// move; consumed by the journal, the store, the WebSocket hub, the notifier and
// the DNS worker. Emitted and delivered on the registry (io_context) thread:
// a sink must only copy what it needs and enqueue it, never block.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "heartbeat/core/json.hpp"

namespace heartbeat::server {

enum class event_kind : std::uint8_t {
  host,     // a host's state or a connection changed (data: the host as /api/0/hosts shows it)
  plugin,   // a PLG was accepted (data: {"host","plugin","data","timestamp"})
  message,  // a MSG was accepted (data: {"time","host","msg","event"})
  alert,    // an alert transition (data: the alert as /api/0/alerts shows it, plus "text", "reason", "from", "to")
  command,  // a command was queued, delivered, answered or expired (data: the command record)
  reboot,   // a host rebooted (boot_time changed or seq restarted)
  dropped,  // a host was removed through the API
};

inline const char* to_string(event_kind k) noexcept {
  switch (k) {
    case event_kind::host: return "host";
    case event_kind::plugin: return "plugin";
    case event_kind::message: return "message";
    case event_kind::alert: return "alert";
    case event_kind::command: return "command";
    case event_kind::reboot: return "reboot";
    case event_kind::dropped: return "dropped";
  }
  return "unknown";
}

struct event {
  event_kind kind = event_kind::host;
  double ts = 0;     // Unix time of the event
  std::string host;  // the host it concerns
  json::value data;  // the payload; the WebSocket message is {"type": to_string(kind), "data": data}
};

using event_sink = std::function<void(const event&)>;

// Fan-out of events to every subscribed sink, in subscription order.
class event_bus {
 public:
  void subscribe(event_sink s) { sinks_.push_back(std::move(s)); }
  bool empty() const noexcept { return sinks_.empty(); }
  void publish(const event& e) const {
    for (const auto& s : sinks_) s(e);
  }

 private:
  std::vector<event_sink> sinks_;
};

}  // namespace heartbeat::server
