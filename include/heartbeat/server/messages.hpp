// Entries of the messages ring (GET /api/0/messages): what hosts said (MSG)
// and what hbd noted about them, and their JSON form both ways (message
// events, the store). The registry keeps the ring on the io thread.
#pragma once

#include <string>

#include "heartbeat/core/json.hpp"

namespace heartbeat::server {

// One entry of the messages ring.
struct message_entry {
  double time = 0;
  std::string host;
  std::string msg;
  std::string event;  // "message", "boot", "shutdown" (from the host) or "state", "reboot" (from hbd)
};

inline json::value message_to_json(const message_entry& m) {
  return json::value::object({{"time", m.time}, {"host", m.host}, {"msg", m.msg}, {"event", m.event}});
}

// An entry as message_to_json() wrote it (the store's snapshot).
inline message_entry message_from_json(const json::value& j) {
  return {j.number_or("time", 0), j.string_or("host", ""), j.string_or("msg", ""),
          j.string_or("event", "message")};
}

}  // namespace heartbeat::server
