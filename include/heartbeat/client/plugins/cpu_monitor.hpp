// cpu_monitor: CPU percent (since the previous sample, at least a second
// before: detail/rate_gap.hpp), optional per-core percent, load averages,
// frequency, process counts and uptime from /proc (readers/cpu.hpp). Options:
// per_core (false), frequency (true), processes (true). hbc's io thread.
#pragma once

#include <chrono>

#include "heartbeat/client/detail/rate_gap.hpp"
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
    // The first sample: the first collect reports the CPU use since then.
    auto r = reader_.read(opts_);
    if (!r) co_return r.err();
    sampled_ = std::chrono::steady_clock::now();
    co_return result<void>{};
  }
  net::awaitable<result<json::value>> collect() {
    co_await detail::wait_rate_gap(sampled_);
    auto r = reader_.read(opts_);
    sampled_ = std::chrono::steady_clock::now();
    co_return r;
  }

 private:
  readers::cpu_reader reader_;
  readers::cpu_reader::options opts_;
  std::chrono::steady_clock::time_point sampled_;
};

}  // namespace heartbeat::client
