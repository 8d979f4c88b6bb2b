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

// The mounts disk_monitor and filesystem_info report.
inline result<std::vector<readers::mount_entry>> selected_mounts(bool all, bool network_fs,
                                                                 const std::vector<std::string>& only) {
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

class disk_monitor_plugin {
 public:
  static constexpr std::string_view type_name = "disk_monitor";
  static constexpr plugin_kind kind = plugin_kind::monitor;
  static constexpr double default_interval = 300;

  explicit disk_monitor_plugin(plugin_context& c) {
    c.options.get("all", all_);
    c.options.get("mount_points", only_);
    c.options.get("network_fs", network_fs_);
    c.options.get("io", io_);
  }
  net::awaitable<result<void>> initialize() {
    auto m = selected_mounts(all_, network_fs_, only_);
    if (!m) co_return m.err();
    if (io_) sample_io();
    co_return result<void>{};
  }
  net::awaitable<result<json::value>> collect() {
    auto m = selected_mounts(all_, network_fs_, only_);
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
  net::awaitable<void> cleanup() { co_return; }

 private:
  bool all_ = false, network_fs_ = false, io_ = true;
  std::vector<std::string> only_;
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
