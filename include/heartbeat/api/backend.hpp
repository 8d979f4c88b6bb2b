// What the HTTP API needs from the rest of hbd, as one narrow interface: read host state, alerts and
// history, change hosts through the registry's methods, export metrics, subscribe to events. Every
// call happens on the io thread (the registry's thread); `registry_backend.hpp` implements it over
// server::registry, and unit tests implement it with a small in-memory fake.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/api/auth.hpp"
#include "heartbeat/api/host_query.hpp"
#include "heartbeat/api/metrics.hpp"
#include "heartbeat/bus/events.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/server/event_log.hpp"

namespace heartbeat::api {

class backend {
 public:
  virtual ~backend() = default;

  // Host names in stable (name) order.
  virtual std::vector<std::string> host_names() const = 0;
  virtual std::size_t host_count() const { return host_names().size(); }
  virtual bool has_host(std::string_view host) const = 0;
  // Effective roles on a host (config + HTB-declared owner + API changes + default_owner).
  virtual host_access access(std::string_view host) const = 0;
  // One entry of GET /api/0/hosts, appended to `out`.
  virtual void write_host_json(std::string& out, std::string_view host) const = 0;
  // GET /api/0/hosts: a JSON array of the hosts `who` holds a role on (nullptr: every host).
  virtual void write_hosts_json(std::string& out, const user* who) const = 0;
  // One page of that list, in the same order: at most `limit` entries from `offset`, as a
  // JSON array. Returns how many entries the whole list has. The default slices the full list.
  virtual std::size_t write_hosts_page(std::string& out, const user* who, std::size_t offset,
                                       std::size_t limit) const {
    std::string all;
    write_hosts_json(all, who);
    auto v = json::parse(all);
    if (!v || !v->is_array()) {
      out += "[]";
      return 0;
    }
    const auto& a = v->as_array();
    out.push_back('[');
    for (std::size_t i = offset; i < a.size() && i - offset < limit; ++i) {
      if (i > offset) out.push_back(',');
      a[i].dump_to(out);
    }
    out.push_back(']');
    return a.size();
  }
  // The page `q` selects from that list, filtered and ordered (api/host_query.hpp), as a JSON
  // array; fills `r` with the filter's totals. The default selects from the parsed full list.
  virtual void write_hosts_query(std::string& out, const user* who, const host_query& q,
                                 host_query_result& r) const {
    std::string all;
    write_hosts_json(all, who);
    auto v = json::parse(all);
    std::vector<const json::value*> hosts;
    if (v && v->is_array())
      for (const auto& h : v->as_array())
        if (const json::value* n = h.find("name"); n && n->is_string()) hosts.push_back(&h);
    std::stable_sort(hosts.begin(), hosts.end(), [](const json::value* a, const json::value* b) {
      return a->find("name")->as_string() < b->find("name")->as_string();
    });
    out.push_back('[');
    bool first = true;
    // `who` already filtered the list; only the role floor is left to check.
    select_hosts(hosts, nullptr, q.at_least == role::none ? nullptr : who, q, json_host_traits{}, r,
                 [&](const json::value* h) {
                   if (!first) out.push_back(',');
                   first = false;
                   h->dump_to(out);
                 });
    out.push_back(']');
  }
  // Recent messages (oldest first), each {"time","host","msg",...}; the API filters by role.
  virtual json::value messages() const = 0;
  // {"<plugin>": {"timestamp","data","sample_count"}, ...} for one host.
  virtual json::value plugins_json(std::string_view host) const = 0;
  // Newest-first samples [{"timestamp","data"}, ...] of a plugin, at most `limit`. Calls `done`
  // on the io thread, possibly later (history beyond the in-memory ring comes from the store).
  // An unknown plugin answers an error with code "not_found".
  virtual void plugin_history(std::string_view host, std::string_view plugin, std::size_t limit,
                              std::function<void(result<json::value>)> done) = 0;
  // The same within since <= timestamp <= until (Unix seconds; ?since=&until=), newest first, at
  // most `limit`. This default filters what plugin_history() gives; registry_backend asks the
  // store for the range beyond the in-memory ring.
  virtual void plugin_history_range(std::string_view host, std::string_view plugin, double since,
                                    double until, std::size_t limit,
                                    std::function<void(result<json::value>)> done) {
    plugin_history(host, plugin, limit, [since, until, done = std::move(done)](result<json::value> r) {
      if (!r || !r->is_array()) return done(std::move(r));
      json::value out = json::value::array();
      for (const auto& s : r->as_array()) {
        double ts = s.number_or("timestamp", 0);
        if (ts >= since && ts <= until) out.push_back(s);
      }
      done(std::move(out));
    });
  }
  // GET /api/0/hosts/{h}/alerts: {"hostname","alerts":[every level],"summary":{"ok","warning",
  // "critical","unknown"}} (seed 002).
  virtual json::value host_alerts(std::string_view host) const = 0;
  // GET /api/0/alerts: {"alerts":[non-OK, each with "hostname"],"summary":{"critical","warning",
  // "unknown","total"},"host_count"} over the hosts `visible` accepts.
  virtual json::value all_alerts(std::size_t host_count,
                                 const std::function<bool(std::string_view host)>& visible) const = 0;

  // Changes, through the registry; error codes map to HTTP: not_found 404, bad_request/bad_command/
  // no_address/not_authenticated 400 (409 for not_authenticated), unavailable 503.
  // `by` names who asked (a user name, or "anonymous" without users).
  virtual result<std::string> queue_command(std::string_view host, std::string_view command,
                                            const std::vector<std::string>& args, std::string_view by) = 0;
  virtual result<std::string> queue_upgrade(std::string_view host, std::string_view version,
                                            std::string_view by) = 0;
  virtual result<void> request_dns(std::string_view host) = 0;
  virtual result<void> drop_host(std::string_view host) = 0;
  // Acknowledges a non-OK alert (manager role): reminders stop until its level changes. Returns
  // the alert event data; errors not_found, conflict (the metric is OK), unavailable (no engine).
  virtual result<json::value> ack_alert(std::string_view /*host*/, std::string_view /*metric_path*/,
                                        std::string_view /*by*/) {
    return make_error("unavailable", "alerting is not enabled");
  }
  virtual result<void> set_access(std::string_view host, const host_access& a) = 0;

  // Users changed through the API (to persist them and to refresh notification routing).
  virtual void users_changed(const user_directory&) {}

  // Writes host, plugin, alert and server-counter families for GET /metrics; host series only for
  // hosts `who` holds a role on (nullptr: every host).
  virtual void collect_metrics(metrics_writer& w, const user* who) const = 0;

  // Server settings shown on the web UI's settings page (no secrets).
  virtual json::value settings_json() const { return json::value::object(); }

  // GET /api/0/config (admin): the effective configuration with every secret as "***"; null when
  // not available (404).
  virtual json::value config_json() const { return json::value(); }

  // GET /api/0/maintenance: {"windows":[{"name","hosts","kind","start","end","active",...}]} of the
  // windows that concern a host `visible` accepts (or every host); null when not available (404).
  virtual json::value maintenance_json(double /*now*/,
                                       const std::function<bool(std::string_view host)>& /*visible*/) const {
    return json::value();
  }

  // Server counters as JSON (GET /api/0/stats).
  virtual json::value stats_json() const { return json::value::object(); }

  // GET /api/0/events: the store's event log rows matching `q` (newest first), as
  // {"events": [...], "count"}. Calls `done` on the io thread, possibly later.
  virtual void events(const server::event_query& /*q*/, std::function<void(result<json::value>)> done) {
    done(make_error("unavailable", "the event log needs the store (state_db)"));
  }
  // Active checks, services and duty rotas (docs/CHECKS.md). `who` is the caller; nullptr for open
  // mode and admins, who see everything. A null answer means nothing by that name here (404).
  virtual json::value checks_json(const user* /*who*/) const { return json::value(); }
  virtual json::value check_json(std::string_view /*name*/, const user* /*who*/) const {
    return json::value();
  }
  // Runs a check now; `done` gets the run's result on the io thread. Errors: not_found, forbidden
  // (not a manager of the check's host or of a service listing it).
  virtual void run_check(std::string_view name, const user* /*who*/,
                         std::function<void(result<json::value>)> done) {
    done(make_error("not_found", "no check named " + std::string(name)));
  }
  // Acknowledges a check's alert; errors as run_check, plus conflict (the check is not failing).
  virtual result<json::value> ack_check(std::string_view name, const user* /*who*/, std::string_view /*by*/) {
    return make_error("not_found", "no check named " + std::string(name));
  }
  virtual json::value services_json(const user* /*who*/) const { return json::value(); }
  virtual json::value service_json(std::string_view /*name*/, const user* /*who*/) const {
    return json::value();
  }
  virtual json::value rotas_json(const user* /*who*/) const { return json::value(); }
  // GET /api/0/status/{service}, public: null unless the service has `status_page: true`.
  virtual json::value status_json(std::string_view /*service*/) const { return json::value(); }
  // GET /api/0/alerts for `who`, written into `out`: what all_alerts() gives for `visible`, plus,
  // with checks, the alerts of the checks `who` may see. Backends with many alerts write it
  // without a DOM.
  virtual void write_alerts_for(std::string& out, std::size_t host_count,
                                const std::function<bool(std::string_view host)>& visible,
                                const user* /*who*/) const {
    all_alerts(host_count, visible).dump_to(out);
  }
  // GET /api/0/cluster: {"nodes":[{"name","leader","last_seen","version"}],"leader","lease_expires"};
  // null when not available (404).
  virtual json::value cluster_json() const { return json::value(); }

  // Registers a sink for host, plugin, message and alert events.
  virtual void subscribe(bus::event_sink sink) = 0;
  // Same, for the kinds in `kinds` (bus::event_bit) only, and only while `active()` says so when
  // given: lets the registry skip building payloads nobody reads. Default: every kind, always.
  virtual void subscribe_kinds(bus::event_sink sink, std::uint32_t /*kinds*/,
                               std::function<bool()> /*active*/) {
    subscribe(std::move(sink));
  }
};

}  // namespace heartbeat::api
