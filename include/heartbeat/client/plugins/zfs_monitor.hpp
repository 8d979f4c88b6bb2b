// zfs_monitor: ZFS pool health, capacity, fragmentation, dedup ratio, I/O and
// error counters from zpool(8) (argv, no shell), parsed by plugins/zfs.hpp.
// Options: zpool (command, default "zpool"), timeout (30 s). Initialization
// fails (and the plugin is skipped) where zpool cannot run. hbc's io thread.
#pragma once

#include "heartbeat/client/plugin.hpp"
#include "heartbeat/readers/zfs.hpp"

namespace heartbeat::client {

class zfs_monitor_plugin : public monitor_plugin_base<"zfs_monitor"> {
 public:
  explicit zfs_monitor_plugin(plugin_context& c) {
    c.options.get("zpool", zpool_);
    c.options.get_duration("timeout", timeout_);
  }
  net::awaitable<result<void>> initialize() {
    // Named argv vectors: GCC 12 miscompiles braced lists inside co_await expressions.
    std::vector<std::string> args{"list", "-Hp", "-o", readers::zpool_list_columns};
    auto r = co_await run(std::move(args));
    if (!r.spawned) co_return make_error("zpool", r.err);
    if (r.rc != 0) co_return make_error("zpool", "zpool list failed: " + first_line(r.err));
    co_return result<void>{};
  }
  net::awaitable<result<json::value>> collect() {
    std::vector<std::string> list_args{"list", "-Hp", "-o", readers::zpool_list_columns};
    auto list = co_await run(std::move(list_args));
    if (!list.spawned || list.rc != 0)
      co_return make_error("zpool", "zpool list failed: " + first_line(list.err));
    json::value pools = readers::parse_zpool_list(list.out);
    std::vector<std::string> io_args{"iostat", "-Hp"};
    auto io = co_await run(std::move(io_args));
    if (io.rc == 0) readers::merge_zpool_iostat(pools, io.out);
    std::vector<std::string> st_args{"status"};
    auto st = co_await run(std::move(st_args));
    if (st.rc == 0) {
      json::value status = readers::parse_zpool_status(st.out);
      for (auto& [name, p] : pools.as_object())
        if (const json::value* s = status.find(name))
          for (const auto& [k, v] : s->as_object()) p.set(k, v);
    }
    json::value d = json::value::object();
    d.set("pool_count", static_cast<unsigned long>(pools.size()));
    d.set("pools", std::move(pools));
    co_return d;
  }

 private:
  std::string zpool_ = "zpool";
  double timeout_ = 30;

  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
  net::awaitable<process_result> run(std::vector<std::string> args) {
    args.insert(args.begin(), zpool_);
    process_options o;
    o.timeout = net::timeout_from_seconds(timeout_);
    o.max_output = 1 << 20;
    co_return co_await run_process(args, o);
  }
};

}  // namespace heartbeat::client
