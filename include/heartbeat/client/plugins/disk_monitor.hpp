// disk_monitor: per-partition use of the physical filesystems (statvfs) and
// per-disk I/O rates (/proc/diskstats, two samples at least a second apart:
// detail/rate_gap.hpp) via readers/disk.hpp. Options: all
// (false: physical filesystems only), mount_points (list: only these),
// network_fs (false: NFS/CIFS left out, a hung server would block statvfs),
// io (true). hbc's io thread.
#pragma once

#include <chrono>

#include "heartbeat/client/detail/rate_gap.hpp"
#include "heartbeat/client/plugin.hpp"
#include "heartbeat/readers/disk.hpp"

namespace heartbeat::client {

inline bool is_network_fs(std::string_view t) noexcept {
  return t == "nfs" || t == "nfs4" || t == "cifs" || t == "smbfs" || t == "smb3" || t == "ceph" ||
         t == "glusterfs" || t == "9p" || t == "afs";
}

// Which mounts disk_monitor and filesystem_info report, from their options all, network_fs
// and (disk_monitor only) mount_points.
struct mount_selection {
  bool all = false, network_fs = false;
  std::vector<std::string> only;  // mount_points; empty: every selected mount

  mount_selection(config::object_reader& options, bool with_mount_points) {
    options.get("all", all);
    if (with_mount_points) options.get("mount_points", only);
    options.get("network_fs", network_fs);
  }

  result<std::vector<readers::mount_entry>> mounts() const {
    auto text = readers::read_file({}, "/proc/self/mounts");
    if (!text) return text.err();
    std::vector<readers::mount_entry> out;
    for (auto& m : readers::select_mounts(readers::parse_mounts(*text), all)) {
      if (!network_fs && is_network_fs(m.fstype)) continue;
      if (!only.empty() && std::find(only.begin(), only.end(), m.mount_point) == only.end()) continue;
      out.push_back(std::move(m));
    }
    return out;
  }
};

class disk_monitor_plugin : public monitor_plugin_base<"disk_monitor"> {
 public:
  explicit disk_monitor_plugin(plugin_context& c) : select_(c.options, true) { c.options.get("io", io_); }
  net::awaitable<result<void>> initialize() {
    auto m = select_.mounts();
    if (!m) co_return m.err();
    if (io_) sample_io();
    co_return result<void>{};
  }
  net::awaitable<result<json::value>> collect() {
    auto m = select_.mounts();
    if (!m) co_return m.err();
    json::value d = json::value::object();
    d.set("partitions", readers::partitions_from_mounts(*m));
    if (io_) {
      co_await detail::wait_rate_gap(prev_time_);
      auto before = prev_;
      auto t0 = prev_time_;
      if (sample_io()) {
        double secs = std::chrono::duration<double>(prev_time_ - t0).count();
        d.set("io", readers::diskstats_rates(before, prev_, secs));
      }
    }
    co_return d;
  }

 private:
  mount_selection select_;
  bool io_ = true;
  std::map<std::string, readers::diskstat> prev_;
  std::chrono::steady_clock::time_point prev_time_;

  bool sample_io() {
    auto t = readers::read_file({}, "/proc/diskstats");
    if (!t) return false;
    prev_ = readers::parse_diskstats(*t);
    prev_time_ = std::chrono::steady_clock::now();
    return true;
  }
};

}  // namespace heartbeat::client
