// The API's backend as hbd runs it: checks_backend (registry_backend with the
// active checks), plus what several nodes on
// one PostgreSQL need (docs/CLUSTER.md): each change made through the API that
// the registry cannot see as its own event (access, host removal, acknowledgement,
// DNS request) is reported with what it takes to repeat it on another node, and
// GET /api/0/cluster shows the cluster (a single node: itself). io thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/version.hpp"
#include "heartbeat/hbd/checks_backend.hpp"
#include "heartbeat/server/cluster_config.hpp"

namespace heartbeat::hbd {

class feed_backend : public checks_backend {
 public:
  feed_backend(server::host_registry& reg, server::stats& st, const server::config& cfg)
      : checks_backend(reg, st, cfg), cfg_(&cfg) {}

  // Called after each successful change ("access", "drop", "ack", "dns"; data: its arguments).
  std::function<void(std::string_view kind, json::value data)> on_change;
  // GET /api/0/cluster when several nodes share PostgreSQL.
  std::function<json::value()> cluster_status;

  result<void> request_dns(std::string_view host) override {
    auto r = registry_backend::request_dns(host);
    if (r) report("dns", json::value::object({{"host", std::string(host)}}));
    return r;
  }
  result<void> drop_host(std::string_view host) override {
    auto r = registry_backend::drop_host(host);
    if (r) report("drop", json::value::object({{"host", std::string(host)}}));
    return r;
  }
  result<json::value> ack_alert(std::string_view host, std::string_view metric_path,
                                std::string_view by) override {
    auto r = registry_backend::ack_alert(host, metric_path, by);
    if (r)
      report("ack", json::value::object({{"host", std::string(host)},
                                         {"metric_path", std::string(metric_path)},
                                         {"by", std::string(by)}}));
    return r;
  }
  // A check's alert is `check.<name>` on the check's host (or under its own name): another node
  // repeats it as an "ack" of that alert.
  result<json::value> ack_check(std::string_view name, const api::user* who, std::string_view by) override {
    auto r = checks_backend::ack_check(name, who, by);
    if (r)
      report("ack", json::value::object({{"host", r->string_or("hostname", "")},
                                         {"metric_path", "check." + std::string(name)},
                                         {"by", std::string(by)}}));
    return r;
  }
  result<void> set_access(std::string_view host, const api::host_access& a) override {
    auto r = registry_backend::set_access(host, a);
    if (r)
      report("access", json::value::object({{"host", std::string(host)},
                                            {"owner", a.owner},
                                            {"managers", strings(a.managers)},
                                            {"monitors", strings(a.monitors)}}));
    return r;
  }

  json::value cluster_json() const override {
    if (cluster_status) return cluster_status();
    std::string node = server::cluster_settings_of(config().root).node;
    json::value nodes = json::value::array();
    nodes.push_back(json::value::object({{"name", node},
                                         {"leader", true},
                                         {"last_seen", clock::wall_now()},
                                         {"version", heartbeat::version}}));
    return json::value::object(
        {{"nodes", std::move(nodes)}, {"leader", node}, {"lease_expires", json::value()}, {"node", node}});
  }

  void set_config(const server::config& cfg) {  // SIGHUP
    registry_backend::set_config(cfg);
    cfg_ = &cfg;
  }

 private:
  const server::config* cfg_;

  const server::config& config() const { return *cfg_; }

  void report(const char* kind, json::value data) {
    if (on_change) on_change(kind, std::move(data));
  }
  static json::value strings(const std::vector<std::string>& v) {
    json::value a = json::value::array();
    for (const auto& s : v) a.push_back(s);
    return a;
  }
};

}  // namespace heartbeat::hbd
