// cpu_monitor: CPU percent (since the previous collect), optional per-core
// percent, load averages, frequency, process counts and uptime from /proc
// (plugins/cpu.hpp). Options: per_core (false), frequency (true),
// processes (true). hbc's io thread.
#pragma once

#include "heartbeat/client/plugin.hpp"
#include "heartbeat/readers/cpu.hpp"

namespace heartbeat::client {

class cpu_monitor_plugin : public monitor_plugin_base<"cpu_monitor"> {
 public:
  explicit cpu_monitor_plugin(plugin_context& c) {
    c.options.get("per_core", opts_.per_core);
    c.options.get("frequency", opts_.frequency);
    c.options.get("processes", opts_.processes);
  }
  net::awaitable<result<void>> initialize() {
    // Only checks /proc/stat is readable: the first PLG (sent right after
    // start-up) then reports the average since boot rather than ~0 ms of CPU time.
    auto r = readers::read_file({}, "/proc/stat");
    if (!r) co_return r.err();
    co_return result<void>{};
  }
  net::awaitable<result<json::value>> collect() { co_return reader_.read(opts_); }

 private:
  readers::cpu_reader reader_;
  readers::cpu_reader::options opts_;
};

}  // namespace heartbeat::client
