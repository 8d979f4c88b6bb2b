// Registers the built-in plugin types with a plugin_catalog; on by default (running
// without a `plugins:` entry): os_info, cpu_monitor, memory_monitor,
// disk_monitor, network_monitor, filesystem_info. Start-up, main thread.
#pragma once

#include "heartbeat/client/plugin.hpp"
#include "heartbeat/client/plugins/cpu_monitor.hpp"
#include "heartbeat/client/plugins/disk_monitor.hpp"
#include "heartbeat/client/plugins/exec.hpp"
#include "heartbeat/client/plugins/filesystem_info.hpp"
#include "heartbeat/client/plugins/memory_monitor.hpp"
#include "heartbeat/client/plugins/nagios_runner.hpp"
#include "heartbeat/client/plugins/network_monitor.hpp"
#include "heartbeat/client/plugins/os_info.hpp"
#include "heartbeat/client/plugins/ping_monitor.hpp"
#include "heartbeat/client/plugins/zfs_monitor.hpp"

namespace heartbeat::client {

inline void add_builtin_plugins(plugin_catalog& r) {
  r.add<os_info_plugin>(true);
  r.add<cpu_monitor_plugin>(true);
  r.add<memory_monitor_plugin>(true);
  r.add<disk_monitor_plugin>(true);
  r.add<network_monitor_plugin>(true);
  r.add<filesystem_info_plugin>(true);
  r.add<ping_monitor_plugin>();
  r.add<nagios_runner_plugin>();
  r.add<zfs_monitor_plugin>();
  r.add<exec_plugin>();
}

}  // namespace heartbeat::client
