// Pure readers behind disk_monitor and filesystem_info: mount tables
// (/proc/self/mounts, physical filesystems only by default), statvfs(3) usage,
// /proc/diskstats I/O rates, and `df -P` output (hbc_mini's portable source).
// Standard library and POSIX only; a diskstats_reader belongs to one thread.
#pragma once

#include <sys/statvfs.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::readers {

struct mount_entry {
  std::string device;
  std::string mount_point;
  std::string fstype;
  std::string options;
};

// Undoes the octal escapes of the mount table (\040 is a space, \011 a tab, ...).
inline std::string unescape_mount_field(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

inline std::vector<mount_entry> parse_mounts(std::string_view text) {
  std::vector<mount_entry> out;
  for_each_line(text, [&](std::string_view line) {
    auto f = fields(line);
    if (f.size() < 4) return;
    out.push_back(
        {unescape_mount_field(f[0]), unescape_mount_field(f[1]), std::string(f[2]), std::string(f[3])});
  });
  return out;
}

// True for filesystems that store data on a device (or a pool): what df users
// care about. Pseudo, memory and FUSE helper filesystems are not.
inline bool is_physical_fs(std::string_view fstype) noexcept {
  static constexpr std::string_view virtual_types[] = {
      "proc",      "sysfs",       "tmpfs",      "devtmpfs", "devpts",   "cgroup",   "cgroup2", "securityfs",
      "pstore",    "bpf",         "debugfs",    "tracefs",  "configfs", "fusectl",  "mqueue",  "hugetlbfs",
      "autofs",    "binfmt_misc", "rpc_pipefs", "nsfs",     "ramfs",    "efivarfs", "overlay", "squashfs",
      "selinuxfs", "nfsd",        "devfs",      "cpuset",   "none",     "rootfs",   "aufs",    "iso9660"};
  for (auto v : virtual_types)
    if (fstype == v) return false;
  if (fstype.starts_with("fuse.")) return false;  // lxcfs, gvfsd-fuse, portal...; fuseblk (ntfs-3g) stays
  if (fstype == "fuse") return false;
  return true;
}

// Mounts worth reporting: physical ones (all of them when `all`), each mount
// point once (the last mount on a point hides the earlier ones).
inline std::vector<mount_entry> select_mounts(const std::vector<mount_entry>& all_mounts, bool all = false) {
  std::vector<mount_entry> out;
  for (const auto& m : all_mounts) {
    if (!all && !is_physical_fs(m.fstype)) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const mount_entry& e) { return e.mount_point == m.mount_point; });
    if (it != out.end())
      *it = m;
    else
      out.push_back(m);
  }
  return out;
}

// Usage of one filesystem, in bytes (as df computes it: percent of the space
// non-root users can reach).
struct fs_usage {
  std::uint64_t total = 0, used = 0, available = 0;
  std::uint64_t inodes = 0, inodes_free = 0;
};

inline std::optional<fs_usage> statvfs_usage(const std::string& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) return std::nullopt;
  std::uint64_t frsize = s.f_frsize ? s.f_frsize : s.f_bsize;
  fs_usage u;
  u.total = static_cast<std::uint64_t>(s.f_blocks) * frsize;
  u.used = static_cast<std::uint64_t>(s.f_blocks - s.f_bfree) * frsize;
  u.available = static_cast<std::uint64_t>(s.f_bavail) * frsize;
  u.inodes = s.f_files;
  u.inodes_free = s.f_ffree;
  return u;
}

inline double usage_percent(const fs_usage& u) noexcept {
  std::uint64_t denom = u.used + u.available;
  return denom ? 100.0 * static_cast<double>(u.used) / static_cast<double>(denom) : 0.0;
}

// One partition's object: device, fstype, total_gb, used_gb, free_gb, free_mb,
// percent (and inodes_percent when known). free_* is the space available to users.
inline json::value partition_json(std::string_view device, std::string_view fstype, const fs_usage& u) {
  constexpr double gib = 1024.0 * 1024.0 * 1024.0;
  json::value p = json::value::object();
  p.set("device", device);
  p.set("fstype", fstype);
  p.set("total_gb", round_to(u.total / gib, 2));
  p.set("used_gb", round_to(u.used / gib, 2));
  p.set("free_gb", round_to(u.available / gib, 2));
  p.set("free_mb", round_to(u.available / (1024.0 * 1024.0), 1));
  p.set("percent", round_to(usage_percent(u)));
  if (u.inodes)
    p.set("inodes_percent",
          round_to(100.0 * static_cast<double>(u.inodes - std::min(u.inodes_free, u.inodes)) / u.inodes));
  return p;
}

// One row of `df -P` (sizes converted to bytes).
struct df_row {
  std::string filesystem;
  std::string mount_point;
  fs_usage usage;
  double capacity_percent = 0;
};

// Parses `df -P` (POSIX format; the header's "N-blocks" gives the unit).
inline std::vector<df_row> parse_df_p(std::string_view text) {
  std::vector<df_row> out;
  std::uint64_t unit = 1024;
  bool header = true;
  for_each_line(text, [&](std::string_view line) {
    auto f = fields(line);
    if (f.empty()) return;
    if (header) {
      header = false;
      if (f[0] == "Filesystem") {
        if (f.size() > 1 && f[1].ends_with("-blocks")) unit = to_u64(f[1].substr(0, f[1].size() - 7), 1024);
        return;
      }
    }
    // Find the capacity column ("18%"); the device is everything before its 4
    // numbers, the mount point everything after (both may contain spaces).
    std::size_t cap = 0;
    for (std::size_t i = 4; i < f.size(); ++i)
      if (f[i].ends_with('%')) {
        cap = i;
        break;
      }
    if (cap == 0 || cap + 1 >= f.size()) return;
    df_row r;
    const char* dev_begin = f[0].data();
    const char* dev_end = f[cap - 4].data() + f[cap - 4].size();
    r.filesystem.assign(dev_begin, dev_end);
    const char* mp_begin = f[cap + 1].data();
    const char* mp_end = f.back().data() + f.back().size();
    r.mount_point.assign(mp_begin, mp_end);
    r.usage.total = to_u64(f[cap - 3]) * unit;
    r.usage.used = to_u64(f[cap - 2]) * unit;
    r.usage.available = to_u64(f[cap - 1]) * unit;
    r.capacity_percent = to_double(f[cap].substr(0, f[cap].size() - 1));
    out.push_back(std::move(r));
  });
  return out;
}

// df's rows that look physical: the device is a path (or a ZFS dataset, which
// has a '/' in its name) and not a memory filesystem.
inline bool df_row_physical(const df_row& r) {
  std::string_view fs = r.filesystem;
  if (fs == "tmpfs" || fs == "devtmpfs" || fs == "udev" || fs == "none" || fs == "overlay" || fs == "shm" ||
      fs == "cgroup" || fs == "proc" || fs == "sysfs")
    return false;
  return fs.find('/') != std::string_view::npos;
}

// The disk_monitor "partitions" object from `df -P` output.
inline json::value partitions_from_df(std::string_view df_text, bool all = false) {
  json::value parts = json::value::object();
  for (const auto& r : parse_df_p(df_text)) {
    if (!all && !df_row_physical(r)) continue;
    parts.set(r.mount_point, partition_json(r.filesystem, "", r.usage));
    parts[r.mount_point].erase("fstype");
  }
  return parts;
}

// The "partitions" object from a mount table and statvfs.
inline json::value partitions_from_mounts(const std::vector<mount_entry>& mounts) {
  json::value parts = json::value::object();
  for (const auto& m : mounts) {
    auto u = statvfs_usage(m.mount_point);
    if (!u || u->total == 0) continue;
    parts.set(m.mount_point, partition_json(m.device, m.fstype, *u));
  }
  return parts;
}

// /proc/diskstats counters of one block device.
struct diskstat {
  std::uint64_t reads = 0, sectors_read = 0, writes = 0, sectors_written = 0, io_ms = 0;
};

// Whole block devices only: loop, ram and zram devices and partitions of a
// listed disk (sda1 of sda, nvme0n1p1 of nvme0n1) are left out.
inline std::map<std::string, diskstat> parse_diskstats(std::string_view text) {
  std::map<std::string, diskstat> all;
  for_each_line(text, [&](std::string_view line) {
    auto f = fields(line);
    if (f.size() < 14) return;
    std::string_view name = f[2];
    if (name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram")) return;
    diskstat d;
    d.reads = to_u64(f[3]);
    d.sectors_read = to_u64(f[5]);
    d.writes = to_u64(f[7]);
    d.sectors_written = to_u64(f[9]);
    d.io_ms = to_u64(f[12]);
    all.emplace(std::string(name), d);
  });
  std::map<std::string, diskstat> out;
  for (const auto& [name, d] : all) {
    bool partition = false;
    for (const auto& [other, _] : all) {
      if (other.size() >= name.size() || !name.starts_with(other)) continue;
      std::string_view rest = std::string_view(name).substr(other.size());
      if (!rest.empty() && rest.front() == 'p') rest.remove_prefix(1);
      if (!rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
        partition = true;
    }
    if (!partition) out.emplace(name, d);
  }
  return out;
}

// Per-device rates between two samples `seconds` apart: read_bytes_per_sec,
// write_bytes_per_sec, reads_per_sec, writes_per_sec, busy_percent.
inline json::value diskstats_rates(const std::map<std::string, diskstat>& before,
                                   const std::map<std::string, diskstat>& after, double seconds) {
  json::value io = json::value::object();
  if (seconds <= 0) return io;
  auto delta = [](std::uint64_t a, std::uint64_t b) { return b >= a ? static_cast<double>(b - a) : 0.0; };
  for (const auto& [name, b] : after) {
    auto it = before.find(name);
    if (it == before.end()) continue;
    const diskstat& a = it->second;
    json::value d = json::value::object();
    d.set("read_bytes_per_sec", round_to(delta(a.sectors_read, b.sectors_read) * 512 / seconds));
    d.set("write_bytes_per_sec", round_to(delta(a.sectors_written, b.sectors_written) * 512 / seconds));
    d.set("reads_per_sec", round_to(delta(a.reads, b.reads) / seconds, 2));
    d.set("writes_per_sec", round_to(delta(a.writes, b.writes) / seconds, 2));
    d.set("busy_percent", round_to(std::min(100.0, delta(a.io_ms, b.io_ms) / (seconds * 10.0))));
    io.set(name, std::move(d));
  }
  return io;
}

}  // namespace heartbeat::readers
