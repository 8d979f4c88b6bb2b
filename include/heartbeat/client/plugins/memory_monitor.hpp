// memory_monitor: RAM and swap use, available memory counting the reclaimable
// ZFS ARC (plugins/memory.hpp). No options. hbc's io thread.
#pragma once

#include "heartbeat/client/plugin.hpp"
#include "heartbeat/readers/memory.hpp"

namespace heartbeat::client {

class memory_monitor_plugin : public monitor_plugin_base<"memory_monitor"> {
 public:
  explicit memory_monitor_plugin(plugin_context&) {}
  net::awaitable<result<void>> initialize() {
    auto r = readers::read_memory();
    if (!r) co_return r.err();
    co_return result<void>{};
  }
  net::awaitable<result<json::value>> collect() { co_return readers::read_memory(); }
};

}  // namespace heartbeat::client
