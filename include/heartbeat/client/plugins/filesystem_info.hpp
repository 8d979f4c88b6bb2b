// filesystem_info: an InfoPlugin listing the mounted filesystems (physical ones
// by default): device, type, options and size. Options: all, network_fs.
// hbc's io thread.
#pragma once

#include "heartbeat/client/plugin.hpp"
#include "heartbeat/client/plugins/disk_monitor.hpp"

namespace heartbeat::client {

class filesystem_info_plugin : public info_plugin_base<"filesystem_info"> {
 public:
  explicit filesystem_info_plugin(plugin_context& c) : select_(c.options, false) {}
  net::awaitable<result<json::value>> collect() {
    auto m = select_.mounts();
    if (!m) co_return m.err();
    json::value fs = json::value::object();
    for (const auto& e : *m) {
      json::value f = json::value::object();
      f.set("device", e.device);
      f.set("fstype", e.fstype);
      f.set("options", e.options);
      if (auto u = readers::statvfs_usage(e.mount_point))
        f.set("total_gb", readers::round_to(u->total / (1024.0 * 1024.0 * 1024.0), 2));
      fs.set(e.mount_point, std::move(f));
    }
    json::value d = json::value::object();
    d.set("count", static_cast<unsigned long>(fs.size()));
    d.set("filesystems", std::move(fs));
    co_return d;
  }

 private:
  mount_selection select_;
};

}  // namespace heartbeat::client
