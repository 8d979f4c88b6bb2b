// Pure readers behind memory_monitor: /proc/meminfo (RAM, swap, available) and
// ZFS ARC awareness via /proc/spl/kstat/zfs/arcstats (the ARC above its minimum
// is reclaimable, so it counts as available). Standard library and POSIX only
// (hbc_mini shares it); pure functions, any thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "heartbeat/core/json.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::readers {

// Values in bytes.
struct meminfo {
  std::uint64_t total = 0, free = 0, buffers = 0, cached = 0, sreclaimable = 0, shmem = 0;
  std::optional<std::uint64_t> available;  // MemAvailable (kernels >= 3.14)
  std::uint64_t swap_total = 0, swap_free = 0;
  bool valid = false;
};

// The /proc/meminfo lines read into a meminfo counter (MemAvailable, optional, aside).
inline constexpr std::pair<std::string_view, std::uint64_t meminfo::*> meminfo_keys[] = {
    {"MemTotal", &meminfo::total},
    {"MemFree", &meminfo::free},
    {"Buffers", &meminfo::buffers},
    {"Cached", &meminfo::cached},
    {"SReclaimable", &meminfo::sreclaimable},
    {"Shmem", &meminfo::shmem},
    {"SwapTotal", &meminfo::swap_total},
    {"SwapFree", &meminfo::swap_free}};

inline meminfo parse_meminfo(std::string_view text) {
  meminfo m;
  for_each_line(text, [&](std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string_view key = line.substr(0, colon);
    auto f = fields(line.substr(colon + 1));
    if (f.empty()) return;
    std::uint64_t v = to_u64(f[0]);
    if (f.size() >= 2 && f[1] == "kB") v *= 1024;
    if (key == "MemAvailable") m.available = v;
    if (key == "MemTotal") m.valid = true;
    for (const auto& [name, field] : meminfo_keys)
      if (key == name) m.*field = v;
  });
  return m;
}

// ZFS ARC sizes in bytes from arcstats ("name type data" rows).
struct arcstats {
  std::uint64_t size = 0;
  std::uint64_t c_min = 0;
  std::uint64_t c_max = 0;
  bool valid = false;
};

inline arcstats parse_arcstats(std::string_view text) {
  arcstats a;
  for_each_line(text, [&](std::string_view line) {
    auto f = fields(line);
    if (f.size() != 3) return;
    if (f[0] == "size") {
      a.size = to_u64(f[2]);
      a.valid = true;
    } else if (f[0] == "c_min")
      a.c_min = to_u64(f[2]);
    else if (f[0] == "c_max")
      a.c_max = to_u64(f[2]);
  });
  return a;
}

// The memory_monitor data object. Fields: total_mb, available_mb, used_mb,
// free_mb, buffers_mb, cached_mb, percent (of total not available), swap_total_mb,
// swap_used_mb, swap_free_mb, swap_percent; with ZFS: zfs_arc_mb, zfs_arc_min_mb
// and available_mb includes the ARC above its minimum.
inline json::value memory_json(const meminfo& m, const std::optional<arcstats>& arc = std::nullopt) {
  constexpr double mib = 1024.0 * 1024.0;
  std::uint64_t avail = m.available
                            ? *m.available
                            : m.free + m.buffers + m.cached + m.sreclaimable - std::min(m.shmem, m.cached);
  if (arc && arc->valid && arc->size > arc->c_min) avail += arc->size - arc->c_min;
  if (avail > m.total) avail = m.total;
  std::uint64_t used = m.total - avail;
  json::value d = json::value::object();
  d.set("total_mb", round_to(m.total / mib));
  d.set("available_mb", round_to(avail / mib));
  d.set("used_mb", round_to(used / mib));
  d.set("free_mb", round_to(m.free / mib));
  d.set("buffers_mb", round_to(m.buffers / mib));
  d.set("cached_mb", round_to(m.cached / mib));
  d.set("percent",
        m.total ? round_to(100.0 * static_cast<double>(used) / static_cast<double>(m.total)) : 0.0);
  std::uint64_t swap_used = m.swap_total > m.swap_free ? m.swap_total - m.swap_free : 0;
  d.set("swap_total_mb", round_to(m.swap_total / mib));
  d.set("swap_used_mb", round_to(swap_used / mib));
  d.set("swap_free_mb", round_to(m.swap_free / mib));
  d.set("swap_percent",
        m.swap_total ? round_to(100.0 * static_cast<double>(swap_used) / static_cast<double>(m.swap_total))
                     : 0.0);
  if (arc && arc->valid) {
    d.set("zfs_arc_mb", round_to(arc->size / mib));
    d.set("zfs_arc_min_mb", round_to(arc->c_min / mib));
  }
  return d;
}

// Reads <root>/proc/meminfo and, when present, the ZFS arcstats.
inline result<json::value> read_memory(std::string_view root = {}) {
  auto text = read_file(root, "/proc/meminfo");
  if (!text) return text.err();
  meminfo m = parse_meminfo(*text);
  if (!m.valid) return make_error("parse", "/proc/meminfo: no MemTotal");
  std::optional<arcstats> arc;
  if (auto a = read_file(root, "/proc/spl/kstat/zfs/arcstats")) arc = parse_arcstats(*a);
  return memory_json(m, arc);
}

}  // namespace heartbeat::readers
