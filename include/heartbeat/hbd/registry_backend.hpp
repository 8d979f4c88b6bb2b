// The API's backend (api::backend) over hbd's real parts: the registry (host state, plugin rings, messages,
// changes), the alert engine (alert states), the store (history beyond the ring) and the stats (counters for
// /metrics). Created by server::app and used on the io thread only, like everything it reads.
#pragma once

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/alert/engine.hpp"
#include "heartbeat/api/backend.hpp"
#include "heartbeat/api/http_server.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/hbd/config.hpp"
#include "heartbeat/hbd/host_query.hpp"
#include "heartbeat/hbd/redact.hpp"
#include "heartbeat/protocol/reject.hpp"
#include "heartbeat/server/config.hpp"
#include "heartbeat/server/host_registry.hpp"
#include "heartbeat/server/series.hpp"
#include "heartbeat/server/stats.hpp"
#include "heartbeat/server/store_backend.hpp"

namespace heartbeat::hbd {

namespace detail {

// Splits `name{a="b",c="d"}` (a stats gauge name) into the family and its labels.
inline std::string split_gauge_name(const std::string& full, api::labels& out) {
  auto brace = full.find('{');
  if (brace == std::string::npos) return full;
  std::string_view rest(full);
  rest = rest.substr(brace + 1);
  while (!rest.empty() && rest.front() != '}') {
    auto eq = rest.find('=');
    if (eq == std::string_view::npos || eq + 1 >= rest.size() || rest[eq + 1] != '"') break;
    std::string key(rest.substr(0, eq));
    rest.remove_prefix(eq + 2);
    std::string val;
    while (!rest.empty() && rest.front() != '"') {
      if (rest.front() == '\\' && rest.size() > 1) rest.remove_prefix(1);
      val.push_back(rest.front());
      rest.remove_prefix(1);
    }
    if (!rest.empty()) rest.remove_prefix(1);
    if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
    out.emplace_back(api::sanitize_label_name(key), std::move(val));
  }
  return api::sanitize_metric_name(full.substr(0, brace));
}

}  // namespace detail

// The HTTP side's settings from hbd's configuration.
inline api::settings settings_from(const server::config& c) {
  api::settings s;
  s.address = c.hbd_host.empty() ? std::string("0.0.0.0") : c.hbd_host;
  s.http_port = c.hbd_port;
  s.ws_port = c.ws_port;
  s.ws_enabled = c.ws_port != 0;
  if (c.wss_port != 0) {
    s.wss_port = c.wss_port;
    std::filesystem::path dir(c.cert_path);
    s.cert_file = (dir / c.wss_pem).string();  // an absolute wss_pem/wss_key wins over cert_path
    s.key_file = (dir / c.wss_key).string();
  }
  s.web_dir = !c.web_dir.empty() ? c.web_dir : c.templates_dir;
  s.cors_origins = c.cors_origins;
  s.session_ttl = c.session_ttl;
  s.guard = api::read_http_guard(c.root);
  for (const auto& [name, u] : c.users)
    s.users.push_back(api::user{name, u.full_name, u.avatar, u.password, u.admin, u.notification_channels});
  return s;
}

class registry_backend : public api::backend {
 public:
  // `engine` and `db` may be null (no alerting, no store); `cfg` must outlive this object.
  registry_backend(server::host_registry& reg, server::stats& st, const server::config& cfg,
                   alert::engine* engine = nullptr, server::store_backend* db = nullptr)
      : reg_(reg), stats_(st), cfg_(&cfg), engine_(engine), store_(db) {}

  void set_config(const server::config& cfg) { cfg_ = &cfg; }
  void set_engine(alert::engine* e) { engine_ = e; }
  alert::engine* engine() const noexcept { return engine_; }
  void set_store(server::store_backend* s) { store_ = s; }
  // Called with the users after an API change (the app persists them or updates the notifier).
  std::function<void(const api::user_directory&)> on_users_changed;

  std::size_t host_count() const override { return reg_.size(); }
  std::vector<std::string> host_names() const override {
    std::vector<std::string> v;
    v.reserve(reg_.size());
    for (const server::host* h : reg_.hosts()) v.push_back(h->name);
    return v;
  }
  bool has_host(std::string_view host) const override { return reg_.find(host) != nullptr; }
  api::host_access access(std::string_view host) const override {
    const server::host* h = reg_.find(host);
    // While drop_host() publishes the `dropped` event the host is already gone: its last roles
    // decide who hears about it.
    if (!h && dropping_ && dropping_->first == host) return dropping_->second;
    if (!h) return {};
    return api::host_access{h->owner, h->managers, h->monitors};
  }
  void write_host_json(std::string& out, std::string_view host) const override {
    if (const server::host* h = reg_.find(host)) out += reg_.entry_json(*h);
  }
  void write_hosts_json(std::string& out, const api::user* who) const override {
    double now = clock::wall_now();
    out.reserve(out.size() + 64 + reg_.size() * 800);  // ~700 bytes per host: one allocation
    if (!who) return reg_.write_hosts_json(out, now);
    reg_.write_hosts_json(out, now, [who](const server::host& h) {
      return api::role_on(*who, h.owner, h.managers, h.monitors) != api::role::none;
    });
  }
  std::size_t write_hosts_page(std::string& out, const api::user* who, std::size_t offset,
                               std::size_t limit) const override {
    std::size_t total = 0;
    out.push_back('[');
    for (const server::host* h : reg_.hosts()) {
      if (who && api::role_on(*who, h->owner, h->managers, h->monitors) == api::role::none) continue;
      if (total >= offset && total - offset < limit) {
        if (total > offset) out.push_back(',');
        out += reg_.entry_json(*h);
      }
      ++total;
    }
    out.push_back(']');
    return total;
  }
  void write_hosts_query(std::string& out, const api::user* who, const api::host_query& q,
                         api::host_query_result& r) const override {
    std::vector<std::uint32_t> named;
    if (!q.q.empty()) reg_.find_names(q.q, named);
    const auto& hosts = reg_.hosts();
    out.push_back('[');
    bool first = true;
    api::select_hosts(hosts, q.q.empty() ? nullptr : &named, who, q, registry_host_traits{}, r,
                      [&](const server::host* h) {
                        if (!first) out.push_back(',');
                        first = false;
                        out += reg_.entry_json(*h);
                      });
    out.push_back(']');
  }
  json::value messages() const override { return reg_.messages_json(); }

  json::value plugins_json(std::string_view host) const override {
    json::value out = json::value::object();
    const server::host* h = reg_.find(host);
    if (!h) return out;
    for (const auto& [name, p] : h->plugins) {
      if (p.empty()) continue;
      const auto& s = p.newest();
      out.set(name, json::value::object({{"timestamp", s.timestamp},
                                         {"data", parse_or_null(s.data_json)},
                                         {"sample_count", p.size()}}));
    }
    return out;
  }

  void plugin_history(std::string_view host, std::string_view plugin, std::size_t limit,
                      std::function<void(result<json::value>)> done) override {
    plugin_history_range(host, plugin, 0, std::numeric_limits<double>::max(), limit, std::move(done));
  }

  // The ring answers what it holds; older samples of the range come from the store.
  void plugin_history_range(std::string_view host, std::string_view plugin, double since, double until,
                            std::size_t limit, std::function<void(result<json::value>)> done) override {
    const server::plugin_data* pd = find_plugin(host, plugin);
    if (!pd && !store_) return done(make_error("not_found", "no data for this plugin"));
    if (pd) {
      json::value ring = ring_samples(*pd, since, until, limit);
      double oldest = pd->newest(pd->size() - 1).timestamp;
      // Enough samples, or the ring reaches back past `since`: the store has nothing to add.
      if (!store_ || ring.size() >= limit || oldest <= since) return done(std::move(ring));
    }
    std::string hn(host), pn(plugin);
    double store_until = pd ? std::min(until, pd->newest(pd->size() - 1).timestamp) : until;
    store_->query_history(
        hn, pn, since, store_until, std::min<std::size_t>(limit + 1, 20000),
        [this, hn, pn, since, until, limit,
         done = std::move(done)](result<std::vector<server::history_sample>> r) {
          const server::plugin_data* p2 = find_plugin(hn, pn);
          if (!r) {
            if (p2) return done(ring_samples(*p2, since, until, limit));
            return done(r.err());
          }
          // The ring's samples first (newest, including writes the store has not committed yet),
          // then older ones from the store; equal timestamps are one sample.
          json::value out = p2 ? ring_samples(*p2, since, until, limit) : json::value::array();
          double oldest = p2 ? p2->newest(p2->size() - 1).timestamp : std::numeric_limits<double>::infinity();
          double last = oldest;
          for (const auto& s : *r) {
            if (out.size() >= limit) break;
            if (s.ts >= oldest || s.ts == last) continue;
            last = s.ts;
            out.push_back(json::value::object({{"timestamp", s.ts}, {"data", parse_or_null(s.data_json)}}));
          }
          if (out.size() == 0 && !p2) return done(make_error("not_found", "no data for this plugin"));
          done(std::move(out));
        });
  }

  json::value host_alerts(std::string_view host) const override {
    if (engine_) return engine_->host_alerts_json(host);
    return json::value::object(
        {{"hostname", std::string(host)},
         {"alerts", json::value::array()},
         {"summary", json::value::object({{"ok", 0}, {"warning", 0}, {"critical", 0}, {"unknown", 0}})}});
  }
  void write_alerts_for(std::string& out, std::size_t host_count,
                        const std::function<bool(std::string_view)>& visible,
                        const api::user* who) const override {
    if (engine_)
      engine_->write_alerts(out, host_count, visible);
    else
      api::backend::write_alerts_for(out, host_count, visible, who);
  }
  json::value all_alerts(std::size_t host_count,
                         const std::function<bool(std::string_view)>& visible) const override {
    if (engine_) return engine_->alerts_json(host_count, visible);
    return json::value::object(
        {{"alerts", json::value::array()},
         {"summary", json::value::object({{"critical", 0}, {"warning", 0}, {"unknown", 0}, {"total", 0}})},
         {"host_count", host_count}});
  }

  result<std::string> queue_command(std::string_view host, std::string_view command,
                                    const std::vector<std::string>& args, std::string_view by) override {
    return reg_.queue_command(host, std::string(command), args, std::string(by), clock::now());
  }
  result<std::string> queue_upgrade(std::string_view host, std::string_view version,
                                    std::string_view by) override {
    return reg_.queue_upgrade(host, std::string(version), std::string(by), clock::now());
  }
  result<void> request_dns(std::string_view host) override { return reg_.request_dns(host); }
  result<void> drop_host(std::string_view host) override {
    std::string name(host);
    if (const server::host* h = reg_.find(name))
      dropping_.emplace(name, api::host_access{h->owner, h->managers, h->monitors});
    bool dropped = reg_.drop_host(name, clock::wall_now());
    dropping_.reset();
    if (!dropped) return make_error("not_found", "no host named " + name);
    if (engine_) engine_->forget_host(name);
    return {};
  }
  // Acknowledgement through the engine, published like app::publish_alerts().
  result<json::value> ack_alert(std::string_view host, std::string_view metric_path,
                                std::string_view by) override {
    if (!engine_) return make_error("unavailable", "alerting is not enabled");
    double now = clock::wall_now();
    auto t = engine_->ack(host, metric_path, by, now);
    if (!t) return make_error(t.err().code == "not_alerting" ? "conflict" : t.err().code, t.err().message);
    bus::event e;
    e.kind = bus::event_kind::alert;
    e.ts = now;
    e.host = std::string(host);
    e.data = alert::to_json(*t);
    if (const auto* st = engine_->find(host, metric_path)) e.data.set("state", alert::to_store_json(*st));
    reg_.events().publish(e);
    return alert::to_json(*t);
  }
  result<void> set_access(std::string_view host, const api::host_access& a) override {
    return reg_.set_access(host, a.owner, a.managers, a.monitors, clock::now());
  }
  void users_changed(const api::user_directory& u) override {
    if (on_users_changed) on_users_changed(u);
  }
  void events(const server::event_query& q, std::function<void(result<json::value>)> done) override {
    if (!store_) return api::backend::events(q, std::move(done));
    store_->query_events(q, std::move(done));
  }
  void subscribe(bus::event_sink sink) override { reg_.events().subscribe(std::move(sink)); }
  void subscribe_kinds(bus::event_sink sink, std::uint32_t kinds, std::function<bool()> active) override {
    reg_.events().subscribe(std::move(sink), kinds, std::move(active));
  }

  json::value settings_json() const override {
    const auto& c = *cfg_;
    auto sub = [&](std::string_view key) {
      const json::value* v = c.root.find(key);
      return v ? *v : json::value();
    };
    json::value out = json::value::object();
    out.set("hb_port", c.hb_port);
    out.set("hbd_port", c.hbd_port);
    out.set("hbd_host", c.hbd_host);
    out.set("ws_port", c.ws_port);
    out.set("wss_port", c.wss_port);
    out.set("interval", c.interval);
    out.set("grace", c.grace);
    out.set("history_samples", c.history_samples);
    out.set("history_retention", c.history_retention);
    out.set("require_auth", c.require_auth);
    out.set("host_count", reg_.size());
    out.set("thresholds", sub("thresholds"));
    out.set("threshold_configs", sub("threshold_configs"));
    out.set("threshold_renotify_interval", sub("threshold_renotify_interval"));
    return out;
  }

  json::value config_json() const override { return redact_secrets(effective_config(*cfg_)); }

  json::value maintenance_json(double now,
                               const std::function<bool(std::string_view)>& visible) const override {
    json::value windows = json::value::array();
    json::value out = json::value::object();
    if (!engine_) {
      out.set("windows", std::move(windows));
      return out;
    }
    auto rules = engine_->rules_ptr();
    // The windows as written in the config (schedule fields), by name (as compile_rules names them).
    std::map<std::string, const json::value*> raw;
    if (const json::value* m = cfg_->root.find("maintenance"); m && m->is_array()) {
      std::size_t idx = 0;
      for (const auto& w : m->as_array()) {
        std::string name = w.is_object() ? w.string_or("name", "") : std::string();
        if (name.empty()) name = "maintenance-" + std::to_string(idx);
        raw[name] = &w;
        ++idx;
      }
    }
    if (rules) {
      for (const auto& w : rules->maintenance) {
        json::value covered = json::value::array();  // visible hosts inside the window now
        bool concerns = w.hosts.empty();
        double change = 0;
        bool active = w.active_at(now, change);
        for (const server::host* h : reg_.hosts()) {
          if (!visible(h->name) || !w.applies_to(h->name)) continue;
          concerns = true;
          if (active) covered.push_back(h->name);
        }
        if (!concerns) continue;
        json::value e = json::value::object();
        e.set("name", w.name);
        if (w.hosts.empty())
          e.set("hosts", "*");
        else
          e.set("hosts", detail_string_array(w.hosts));
        bool once = w.k == alert::maintenance_window::kind::once;
        e.set("kind", once ? "once" : "recurring");
        if (once) {
          e.set("start", w.start);
          e.set("end", w.end);
        } else {
          if (auto it = raw.find(w.name); it != raw.end())
            for (const char* k : {"cron", "days", "at", "duration", "timezone"})
              if (const json::value* v = it->second->find(k)) e.set(k, *v);
          // The current occurrence, or the next one.
          bool finite = change < std::numeric_limits<double>::max();
          if (active) {
            e.set("start", change - w.duration);
            if (finite) e.set("end", change);
          } else if (finite) {
            e.set("start", change);
            e.set("end", change + w.duration);
          }
        }
        e.set("reason", w.name);
        e.set("active", active);
        e.set("hosts_in_maintenance", std::move(covered));
        windows.push_back(std::move(e));
      }
    }
    out.set("windows", std::move(windows));
    return out;
  }

  json::value stats_json() const override {
    const auto& st = stats_;
    json::value rejected = json::value::object();
    for (std::size_t i = 1; i < protocol::reject_count; ++i)
      if (st.rejected_by_reason[i])
        rejected.set(protocol::to_string(static_cast<protocol::reject>(i)),
                     static_cast<double>(st.rejected_by_reason[i]));
    return json::value::object({{"datagrams_received", static_cast<double>(st.datagrams_received)},
                                {"datagrams_accepted", static_cast<double>(st.datagrams_accepted)},
                                {"datagrams_rejected", static_cast<double>(st.datagrams_rejected)},
                                {"acks_sent", static_cast<double>(st.acks_sent)},
                                {"commands_sent", static_cast<double>(st.commands_sent)},
                                {"reloads", static_cast<double>(st.reloads)},
                                {"rejected", std::move(rejected)}});
  }

  void collect_metrics(api::metrics_writer& w, const api::user* who) const override {
    namespace se = server::series;
    for (const se::family& f :
         {se::host_up, se::host_state, se::host_last_seen, se::host_loss_ratio, se::host_clock_skew,
          se::connection_up, se::connection_rtt, se::connection_received, se::connection_lost,
          se::plugin_value, se::plugin_sample_ts})
      w.family(f.name, f.type, f.help);
    server::series::plugin_values values;
    for (const server::host* h : reg_.hosts()) {
      if (who && api::role_on(*who, h->owner, h->managers, h->monitors) == api::role::none) continue;
      const std::string& hn = h->name;
      w.sample(se::host_up.name, {{se::l_host, hn}}, se::up_value(h->state));
      w.sample(se::host_state.name, {{se::l_host, hn}, {se::l_state, server::to_string(h->state)}}, 1);
      if (h->last_seen > 0) w.sample(se::host_last_seen.name, {{se::l_host, hn}}, h->last_seen);
      w.sample(se::host_loss_ratio.name, {{se::l_host, hn}}, h->loss_rate());
      if (h->clock_skew) w.sample(se::host_clock_skew.name, {{se::l_host, hn}}, *h->clock_skew);
      for (const auto& c : h->conns) {
        if (!c.present) continue;
        api::labels l{{se::l_host, hn}, {se::l_family, server::to_string(c.family)}};
        w.sample(se::connection_up.name, l, se::up_value(c.state));
        if (c.rtt) w.sample(se::connection_rtt.name, l, *c.rtt / 1000.0);
        w.sample(se::connection_received.name, l, static_cast<double>(c.received));
        w.sample(se::connection_lost.name, l, static_cast<double>(c.lost));
      }
      for (const auto& [pname, p] : h->plugins) {
        if (p.empty()) continue;
        const auto& s = p.newest();
        w.sample(se::plugin_sample_ts.name, {{se::l_host, hn}, {se::l_plugin, pname}}, s.timestamp);
        if (!values.parse(s.data_json)) continue;
        for (std::size_t i = 0; i < values.size(); ++i)
          w.sample(se::plugin_value.name,
                   {{se::l_host, hn}, {se::l_plugin, pname}, {se::l_metric, std::string(values.metric(i))}},
                   values.value(i));
      }
    }
    if (engine_) {
      w.family(se::alert_level.name, se::alert_level.type, se::alert_level.help);
      engine_->for_each_state([&](const alert::alert_state& s) {
        if (s.host.empty()) return;
        if (who && !who->admin) {
          const server::host* h = reg_.find(s.host);
          if (!h || api::role_on(*who, h->owner, h->managers, h->monitors) == api::role::none) return;
        }
        w.sample(se::alert_level.name, {{se::l_host, s.host}, {se::l_metric_path, s.metric_path}},
                 static_cast<double>(static_cast<int>(s.m.lvl)));
      });
    }
    // The server's own counters.
    const auto& st = stats_;
    w.family("heartbeat_hosts", "gauge", "Hosts the server knows.");
    w.sample("heartbeat_hosts", {}, static_cast<double>(reg_.size()));
    w.family("heartbeat_datagrams_received_total", "counter", "UDP datagrams read from the sockets.");
    w.sample("heartbeat_datagrams_received_total", {}, static_cast<double>(st.datagrams_received));
    w.family("heartbeat_datagrams_total", "counter", "UDP datagrams by result.");
    w.sample("heartbeat_datagrams_total", {{"result", "accepted"}},
             static_cast<double>(st.datagrams_accepted));
    w.sample("heartbeat_datagrams_total", {{"result", "rejected"}},
             static_cast<double>(st.datagrams_rejected));
    w.family("heartbeat_datagrams_rejected_total", "counter", "Rejected UDP datagrams by reason.");
    for (std::size_t i = 1; i < protocol::reject_count; ++i)
      w.sample("heartbeat_datagrams_rejected_total",
               {{"reason", protocol::to_string(static_cast<protocol::reject>(i))}},
               static_cast<double>(st.rejected_by_reason[i]));
    w.family("heartbeat_messages_accepted_total", "counter", "Accepted messages by type.");
    for (auto t :
         {protocol::msg_type::htb, protocol::msg_type::plg, protocol::msg_type::msg, protocol::msg_type::res})
      w.sample("heartbeat_messages_accepted_total", {{"type", protocol::to_string(t)}},
               static_cast<double>(st.accepted_by_type[static_cast<std::size_t>(t)]));
    auto counter = [&](const char* name, const char* help, std::uint64_t v) {
      w.family(name, "counter", help);
      w.sample(name, {}, static_cast<double>(v));
    };
    counter("heartbeat_received_bytes_total", "Bytes of UDP datagrams received.", st.bytes_received);
    counter("heartbeat_acks_sent_total", "ACK replies sent.", st.acks_sent);
    counter("heartbeat_commands_sent_total", "CMD and UPD datagrams sent.", st.commands_sent);
    counter("heartbeat_replies_dropped_total", "Replies that could not be sent.", st.replies_dropped);
    counter("heartbeat_events_published_total", "Events published by the registry.", st.events_published);
    counter("heartbeat_config_reloads_total", "Configuration reloads.", st.reloads);
    w.family("heartbeat_udp_receive_buffer_bytes", "gauge", "SO_RCVBUF granted by the kernel.");
    w.sample("heartbeat_udp_receive_buffer_bytes", {}, static_cast<double>(st.udp_rcvbuf_bytes));
    const auto& live = reg_.liveness();
    w.family(
        "heartbeat_io_lag_seconds", "gauge",
        "How far the io thread is behind its UDP sockets (unread datagrams' age) at the last monitor tick.");
    w.sample("heartbeat_io_lag_seconds", {}, live.lag());
    w.family("heartbeat_liveness_deferred_seconds_total", "counter",
             "Time LATE/DOWN decisions waited for datagrams unread in the UDP sockets.");
    w.sample("heartbeat_liveness_deferred_seconds_total", {}, live.held_seconds());
    counter("heartbeat_liveness_deferred_total",
            "Receive backlogs over a second that held LATE/DOWN decisions back.", live.episodes());
    counter("heartbeat_io_stalls_total", "Times the io thread ran the monitor over a second late.",
            live.stalls());
    w.family("heartbeat_io_stall_max_seconds", "gauge",
             "The io thread's longest stall between two monitor ticks.");
    w.sample("heartbeat_io_stall_max_seconds", {}, live.longest_stall());
    for (const auto& g : st.gauges) {
      api::labels l;
      std::string fam = detail::split_gauge_name(g.name, l);
      bool is_counter = fam.size() > 6 && fam.compare(fam.size() - 6, 6, "_total") == 0;
      w.family(fam, is_counter ? "counter" : "gauge", g.help);
      double v = 0;
      try {
        v = g.read ? g.read() : 0;
      } catch (...) {
        v = NAN;
      }
      w.sample(fam, l, v);
    }
  }

 private:
  static json::value detail_string_array(const std::vector<std::string>& v) {
    json::value a = json::value::array();
    for (const auto& s : v) a.push_back(s);
    return a;
  }

  static json::value parse_or_null(const std::string& text) {
    auto v = json::parse(text);
    return v ? std::move(*v) : json::value();
  }

  const server::plugin_data* find_plugin(std::string_view host, std::string_view plugin) const {
    const server::host* h = reg_.find(host);
    if (!h) return nullptr;
    auto it = h->plugins.find(plugin);
    return it == h->plugins.end() || it->second.empty() ? nullptr : &it->second;
  }

  // Newest first, since <= timestamp <= until, at most `limit`.
  static json::value ring_samples(const server::plugin_data& p, double since, double until,
                                  std::size_t limit) {
    json::value out = json::value::array();
    for (std::size_t i = 0; i < p.size() && out.size() < limit; ++i) {
      const auto& s = p.newest(i);
      if (s.timestamp > until) continue;
      if (s.timestamp < since) break;
      out.push_back(json::value::object({{"timestamp", s.timestamp}, {"data", parse_or_null(s.data_json)}}));
    }
    return out;
  }

  server::host_registry& reg_;
  server::stats& stats_;
  const server::config* cfg_;
  alert::engine* engine_;
  server::store_backend* store_;
  std::optional<std::pair<std::string, api::host_access>> dropping_;  // during drop_host() only
};

}  // namespace heartbeat::hbd
