// Pure parsers behind zfs_monitor: `zpool list -Hp` (health, size, capacity,
// fragmentation, dedup ratio), `zpool iostat -Hp` (I/O since import) and
// `zpool status` (state, scan, error counters). Standard library only; pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::readers {

// The column list zfs_monitor asks for, so the layout never depends on defaults.
inline constexpr const char* zpool_list_columns = "name,size,alloc,free,frag,cap,dedup,health";

namespace detail {
inline void set_number_or_null(json::value& o, std::string_view key, std::string_view text) {
  if (text.ends_with('%') || text.ends_with('x')) text.remove_suffix(1);
  double v;
  if (parse_double(text, v))
    o.set(key, v);
  else
    o.set(key, nullptr);  // "-": not applicable (e.g. frag of a pool without spacemap_histogram)
}
}  // namespace detail

// Parses `zpool list -Hp -o name,size,alloc,free,frag,cap,dedup,health` into
// {"<pool>": {size_bytes, alloc_bytes, free_bytes, fragmentation_percent,
// capacity_percent, dedup_ratio, health}}. The default 11-column layout (name
// size alloc free ckpoint expandsz frag cap dedup health altroot) is accepted too.
inline json::value parse_zpool_list(std::string_view text) {
  json::value pools = json::value::object();
  for_each_line(text, [&](std::string_view line) {
    auto f = split(line, '\t');
    if (f.size() < 8) f = fields(line);
    std::size_t frag = 4, cap = 5, dedup = 6, health = 7;
    if (f.size() >= 10) {  // default layout
      frag = 6;
      cap = 7;
      dedup = 8;
      health = 9;
    } else if (f.size() < 8) {
      return;
    }
    json::value p = json::value::object();
    detail::set_number_or_null(p, "size_bytes", f[1]);
    detail::set_number_or_null(p, "alloc_bytes", f[2]);
    detail::set_number_or_null(p, "free_bytes", f[3]);
    detail::set_number_or_null(p, "fragmentation_percent", f[frag]);
    detail::set_number_or_null(p, "capacity_percent", f[cap]);
    detail::set_number_or_null(p, "dedup_ratio", f[dedup]);
    p.set("health", std::string(f[health]));
    p.set("healthy", f[health] == "ONLINE");
    pools.set(std::string(f[0]), std::move(p));
  });
  return pools;
}

// Adds `zpool iostat -Hp` figures (pool rows: name alloc free rops wops rbytes
// wbytes) to the pools object: read_ops, write_ops, read_bytes, write_bytes.
// Without an interval argument zpool reports per-second averages since import.
inline void merge_zpool_iostat(json::value& pools, std::string_view text) {
  for_each_line(text, [&](std::string_view line) {
    auto f = fields(line);
    if (f.size() < 7) return;
    json::value* p = pools.find(f[0]);
    if (!p) return;
    detail::set_number_or_null(*p, "read_ops", f[3]);
    detail::set_number_or_null(*p, "write_ops", f[4]);
    detail::set_number_or_null(*p, "read_bytes", f[5]);
    detail::set_number_or_null(*p, "write_bytes", f[6]);
  });
}

// Parses `zpool status` into {"<pool>": {state, scan, errors, read_errors,
// write_errors, checksum_errors}} (counters from the pool's own config row).
inline json::value parse_zpool_status(std::string_view text) {
  json::value pools = json::value::object();
  std::string cur;
  bool in_config = false;
  for_each_line(text, [&](std::string_view raw) {
    std::string_view line = trim(raw);
    auto keyval = [&](std::string_view key) -> std::optional<std::string_view> {
      if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':')
        return trim(line.substr(key.size() + 1));
      return std::nullopt;
    };
    if (auto v = keyval("pool")) {
      cur = std::string(*v);
      pools.set(cur, json::value::object());
      in_config = false;
      return;
    }
    if (cur.empty()) return;
    json::value& p = pools[cur];
    if (auto v = keyval("state"))
      p.set("state", *v);
    else if (auto v = keyval("scan"))
      p.set("scan", *v);
    else if (auto v = keyval("errors")) {
      p.set("errors", *v);
      in_config = false;
    } else if (keyval("config"))
      in_config = true;
    else if (in_config) {
      auto f = fields(line);
      if (f.size() >= 5 && f[0] == cur) {
        detail::set_number_or_null(p, "read_errors", f[2]);
        detail::set_number_or_null(p, "write_errors", f[3]);
        detail::set_number_or_null(p, "checksum_errors", f[4]);
      }
    }
  });
  return pools;
}

}  // namespace heartbeat::readers
