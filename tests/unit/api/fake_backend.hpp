// An in-memory api::backend for the API's unit tests: a few hosts with roles, plugin data, alerts
// and an event bus the test publishes on. Single-threaded, like the real registry.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "heartbeat/api/backend.hpp"

namespace heartbeat::api::testing {

class fake_backend : public backend {
 public:
  struct host {
    host_access access;
    json::value plugins = json::value::object();
    std::map<std::string, std::vector<json::value>> history;  // newest first
    json::value alerts = json::value::array();
  };
  std::map<std::string, host, std::less<>> hosts;
  json::value msgs = json::value::array();
  bus::event_bus bus;
  std::vector<std::string> log;

  std::vector<std::string> host_names() const override {
    std::vector<std::string> v;
    for (const auto& [n, h] : hosts) v.push_back(n);
    return v;
  }
  bool has_host(std::string_view h) const override { return hosts.find(h) != hosts.end(); }
  host_access access(std::string_view h) const override {
    auto it = hosts.find(h);
    return it == hosts.end() ? host_access{} : it->second.access;
  }
  void write_host_json(std::string& out, std::string_view h) const override {
    json::value::object({{"name", std::string(h)},
                         {"dyn", false},
                         {"ver", 6},
                         {"state", "UP"},
                         {"last_seen", 1.0},
                         {"connections", json::value::array()}})
        .dump_to(out);
  }
  void write_hosts_json(std::string& out, const user* who) const override {
    out += "[";
    bool first = true;
    for (const auto& [n, h] : hosts) {
      if (who && role_on(*who, h.access) == role::none) continue;
      if (!first) out += ",";
      first = false;
      write_host_json(out, n);
    }
    out += "]";
  }
  json::value messages() const override { return msgs; }
  json::value plugins_json(std::string_view h) const override { return hosts.find(h)->second.plugins; }
  void plugin_history(std::string_view h, std::string_view p, std::size_t limit,
                      std::function<void(result<json::value>)> done) override {
    const auto& hist = hosts.find(h)->second.history;
    auto it = hist.find(std::string(p));
    if (it == hist.end()) return done(make_error("not_found", "no such plugin"));
    json::value out = json::value::array();
    for (std::size_t i = 0; i < it->second.size() && i < limit; ++i) out.push_back(it->second[i]);
    done(std::move(out));
  }
  json::value host_alerts(std::string_view h) const override {
    return json::value::object({{"hostname", std::string(h)}, {"alerts", hosts.find(h)->second.alerts}});
  }
  json::value all_alerts(std::size_t host_count,
                         const std::function<bool(std::string_view)>& visible) const override {
    json::value a = json::value::array();
    for (const auto& [n, h] : hosts)
      if (visible(n))
        for (const auto& x : h.alerts.as_array()) {
          json::value e = x;
          e.set("hostname", n);
          a.push_back(std::move(e));
        }
    return json::value::object({{"alerts", std::move(a)}, {"host_count", host_count}});
  }
  result<std::string> queue_command(std::string_view h, std::string_view c, const std::vector<std::string>&,
                                    std::string_view) override {
    log.push_back("command " + std::string(h) + " " + std::string(c));
    return std::string("cmd-1");
  }
  result<std::string> queue_upgrade(std::string_view h, std::string_view, std::string_view) override {
    log.push_back("upgrade " + std::string(h));
    return std::string("upd-1");
  }
  result<void> request_dns(std::string_view h) override {
    log.push_back("dns " + std::string(h));
    return {};
  }
  result<void> drop_host(std::string_view h) override {
    hosts.erase(hosts.find(h));
    return {};
  }
  result<void> set_access(std::string_view h, const host_access& a) override {
    hosts.find(h)->second.access = a;
    return {};
  }
  void collect_metrics(metrics_writer& w, const user* who) const override {
    w.family("heartbeat_host_up", "gauge", "1 when the host is UP.");
    for (const auto& [n, h] : hosts)
      if (!who || role_on(*who, h.access) != role::none) w.sample("heartbeat_host_up", {{"host", n}}, 1);
  }
  void subscribe(bus::event_sink s) override { bus.subscribe(std::move(s)); }
};

}  // namespace heartbeat::api::testing
