// ping_monitor: round-trip time and loss to configured hosts with ping(8)
// (argv, no shell), all hosts at once, parsed by plugins/ping.hpp. Options:
// hosts (required list), count (3), timeout (10 s per host). hbc's io thread.
#pragma once

#include "heartbeat/client/detail/join.hpp"
#include "heartbeat/client/plugin.hpp"
#include "heartbeat/readers/ping.hpp"

namespace heartbeat::client {

class ping_monitor_plugin : public monitor_plugin_base<"ping_monitor"> {
 public:
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
  net::awaitable<result<json::value>> collect() {
    std::vector<detail::process_job> jobs;
    for (const auto& h : hosts_) {
      detail::process_job& j = jobs.emplace_back();
      j.argv = {ping_, "-n", "-q", "-c", std::to_string(count_), "-i", "0.2", "-W", "2", h};
      j.options.timeout = net::timeout_from_seconds(timeout_);
    }
    auto results = co_await detail::run_all(std::move(jobs));
    json::value hosts = json::value::object();
    for (std::size_t i = 0; i < hosts_.size(); ++i) {
      const auto& r = results[i];
      if (!r.spawned) co_return make_error("spawn", r.err);
      hosts.set(hosts_[i], readers::ping_json(readers::parse_ping_output(r.out)));
    }
    json::value d = json::value::object();
    d.set("hosts", std::move(hosts));
    co_return d;
  }

 private:
  std::string name_;
  std::vector<std::string> hosts_;
  unsigned count_ = 3;
  double timeout_ = 10;
  std::string ping_ = "ping";
};

}  // namespace heartbeat::client
