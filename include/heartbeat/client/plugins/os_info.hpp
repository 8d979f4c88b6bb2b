// os_info: an InfoPlugin with the OS, kernel, distribution and architecture
// (uname + /etc/os-release via plugins/os_info.hpp). hbc's io thread.
#pragma once

#include "heartbeat/client/plugin.hpp"
#include "heartbeat/core/version.hpp"
#include "heartbeat/readers/os_info.hpp"

namespace heartbeat::client {

class os_info_plugin : public info_plugin_base<"os_info"> {
 public:
  explicit os_info_plugin(plugin_context&) {}
  net::awaitable<result<json::value>> collect() {
    json::value d = readers::read_os_info();
    d.set("agent", std::string("hbc/") + version);
    co_return d;
  }
};

}  // namespace heartbeat::client
