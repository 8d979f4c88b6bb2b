// filesystem_info: an InfoPlugin listing the mounted filesystems (physical ones
// by default): device, type, options and size. Options: all, network_fs.
// hbc's io thread.
#pragma once

#include "heartbeat/client/plugin.hpp"
#include "heartbeat/client/plugins/disk_monitor.hpp"

namespace heartbeat::client {

class filesystem_info_plugin {
 public:
  static constexpr std::string_view type_name = "filesystem_info";
  static constexpr plugin_kind kind = plugin_kind::info;
  static constexpr double default_interval = 0;

  explicit filesystem_info_plugin(plugin_context& c) {
    c.options.get("all", all_);
    c.options.get("network_fs", network_fs_);
  }
  net::awaitable<result<void>> initialize() { co_return result<void>{}; }
  net::awaitable<result<json::value>> collect() {
    auto m = selected_mounts(all_, network_fs_, {});
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
  net::awaitable<void> cleanup() { co_return; }

 private:
  bool all_ = false, network_fs_ = false;
};

}  // namespace heartbeat::client
