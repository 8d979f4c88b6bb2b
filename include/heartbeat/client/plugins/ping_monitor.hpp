// ping_monitor: round-trip time and loss to configured hosts with ping(8)
// (argv, no shell), all hosts at once, parsed by plugins/ping.hpp. Options:
// hosts (required list), count (3), timeout (10 s per host). hbc's io thread.
#pragma once

#include <memory>

#include "heartbeat/client/detail/join.hpp"
#include "heartbeat/client/plugin.hpp"
#include "heartbeat/readers/ping.hpp"

namespace heartbeat::client {

class ping_monitor_plugin {
 public:
  static constexpr std::string_view type_name = "ping_monitor";
  static constexpr plugin_kind kind = plugin_kind::monitor;
  static constexpr double default_interval = 300;

  explicit ping_monitor_plugin(plugin_context& c) : name_(c.name) {
    c.options.get("hosts", hosts_);
    c.options.get("count", count_, 1, 100);
    c.options.get_duration("timeout", timeout_);
    c.options.get("ping", ping_);
    if (hosts_.empty())
      c.options.diag().error(c.options.key_path("hosts"), "is required: a list of host names or addresses");
    for (const auto& h : hosts_)
      if (h.empty() || h[0] == '-' || h.find_first_of(" \t/") != std::string::npos)
        c.options.diag().error(c.options.key_path("hosts"), "\"" + h + "\" is not a host name or address");
  }
  net::awaitable<result<void>> initialize() { co_return result<void>{}; }
  net::awaitable<result<json::value>> collect() {
    auto results = std::make_shared<std::vector<process_result>>(hosts_.size());
    std::vector<net::awaitable<void>> tasks;
    for (std::size_t i = 0; i < hosts_.size(); ++i) {
      std::vector<std::string> argv{ping_, "-n",  "-q", "-c", std::to_string(count_),
                                    "-i",  "0.2", "-W", "2",  hosts_[i]};
      tasks.push_back(run_one(results, i, std::move(argv), timeout_));
    }
    co_await detail::join_all(std::move(tasks));
    json::value hosts = json::value::object();
    for (std::size_t i = 0; i < hosts_.size(); ++i) {
      const auto& r = (*results)[i];
      if (!r.spawned) co_return make_error("spawn", r.err);
      hosts.set(hosts_[i], readers::ping_json(readers::parse_ping_output(r.out)));
    }
    json::value d = json::value::object();
    d.set("hosts", std::move(hosts));
    co_return d;
  }
  net::awaitable<void> cleanup() { co_return; }

 private:
  std::string name_;
  std::vector<std::string> hosts_;
  unsigned count_ = 3;
  double timeout_ = 10;
  std::string ping_ = "ping";

  static net::awaitable<void> run_one(std::shared_ptr<std::vector<process_result>> results, std::size_t i,
                                      std::vector<std::string> argv, double timeout) {
    process_options o;
    o.timeout = std::chrono::milliseconds(static_cast<long long>(timeout * 1000));
    (*results)[i] = co_await run_process(argv, o);
  }
};

}  // namespace heartbeat::client
