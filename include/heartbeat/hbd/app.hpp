// The hbd process, composed: owns the io_context (the one thread that runs
// ingest, the registry, the monitor, the alert engine and the HTTP API), the
// config, the stats, the registry and the UDP ingest, and wires the journal,
// store, DNS worker, alert engine, notifier, users and API to them. start()
// binds and restores, run() blocks until SIGINT or SIGTERM, SIGHUP reloads the
// config file. Constructed and run on the main thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "heartbeat/alert/engine.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/hbd/config.hpp"
#include "heartbeat/hbd/registry_backend.hpp"
#include "heartbeat/hbd/user_overlay.hpp"
#include "heartbeat/net/asio.hpp"
#include "heartbeat/notify/service.hpp"
#include "heartbeat/protocol/system_policy.hpp"
#include "heartbeat/server/dns.hpp"
#include "heartbeat/server/host_registry.hpp"
#include "heartbeat/server/ingest.hpp"
#include "heartbeat/server/journal.hpp"
#include "heartbeat/server/monitor.hpp"
#include "heartbeat/server/stats.hpp"
#include "heartbeat/server/store.hpp"

namespace heartbeat::hbd {

class app {
 public:
  using policy = protocol::system_policy;

  explicit app(config c)
      : cfg_(std::move(c)),
        reg_(cfg_, stats_, clock::wall_now()),
        ingest_(io_, reg_, stats_),
        monitor_(io_, reg_) {
    ingest_.configure(cfg_);
  }
  app(const app&) = delete;
  app& operator=(const app&) = delete;
  ~app() { shutdown(); }

  asio::io_context& io() noexcept { return io_; }
  server::host_registry& reg() noexcept { return reg_; }
  const server::host_registry& reg() const noexcept { return reg_; }
  server::stats& counters() noexcept { return stats_; }
  const config& cfg() const noexcept { return cfg_; }
  std::uint16_t udp_port() const { return ingest_.port(); }

  // Opens everything; on error nothing keeps running and the caller exits 1.
  result<void> start() {
    // The store restores what the last run knew, then journal, store and DNS
    // worker run on their own threads fed from this one.
    if (auto r = start_persistence(); !r) return r;

    // The engine from the compiled ruleset; reg_.hooks().plugin_sample and
    // rtt_sample feed it samples, the monitor's tick its timers.
    start_alerts();

    // The notifier's worker; it hears host events (state transitions, watch flag
    // and roles) and alert events (data.notify) on the event bus.
    start_notifier();

    if (auto r = ingest_.open(cfg_.hb_host, cfg_.hb_port, cfg_.udp_rcvbuf); !r) return r;
    ingest_.start();
    monitor_.start();

    // The HTTP server (hbd_host:hbd_port) and WebSocket (ws_port) on io_; it
    // reads reg_ and stats_ directly on this thread, alerts through the engine
    // and history through the store.
    api_backend_ = std::make_unique<registry_backend>(reg_, stats_, cfg_);
    api_backend_->set_store(store_.get());
    api_backend_->set_engine(&engine_);
    api_backend_->on_users_changed = [this](const api::user_directory& d) { on_api_users(d); };
    api_ = std::make_unique<api::http_server>(io_, api_settings(), *api_backend_);
    if (auto r = api_->start(); !r) return r;  // error code "tls": bad certificate (exit 2)

    watch_signals();
    log::info("hbd: ready (udp port ", ingest_.port(), ", ", reg_.size(), " hosts known)");
    return {};
  }

  // Runs the io thread until stop.
  void run() { io_.run(); }

  // Thread-safe: asks the io thread to shut down.
  void request_stop() {
    asio::post(io_, [this] { shutdown(); });
  }

  // Re-reads the config file (SIGHUP): hosts, thresholds, users, notifiers and
  // limits change; state, data and sockets stay. A bad file changes nothing.
  result<void> reload() {
    if (cfg_.source.empty()) {
      log::info("hbd: reload: no config file (built-in defaults); nothing to do");
      return {};
    }
    cfg::diagnostics diag;
    config next = load_config_file(cfg_.source, diag);
    for (const auto& d : diag.items)
      log::write(d.is_error ? log::level::error : log::level::warn, "hbd: reload: ", d.text());
    if (diag.has_errors()) {
      log::error("hbd: reload: ", cfg_.source, " has errors; keeping the running configuration");
      return make_error("config", "config has errors");
    }
    if (next.hb_port != cfg_.hb_port || next.hbd_port != cfg_.hbd_port || next.ws_port != cfg_.ws_port)
      log::warn("hbd: reload: port changes take effect at the next restart");
    next.hb_port = cfg_.hb_port;
    next.hbd_port = cfg_.hbd_port;
    next.ws_port = cfg_.ws_port;
    cfg_ = std::move(next);
    reg_.apply_config(cfg_, clock::wall_now());
    ingest_.configure(cfg_);
    {
      cfg::diagnostics quiet;  // already reported by load_server_config_file above
      engine_.set_rules(alert::compile_rules(cfg_.root, quiet));
    }
    if (notifier_) {
      cfg::diagnostics quiet;  // already reported by load_server_config_file above
      notifier_->reload(notify::load_config(cfg_.root, quiet), maintenance_check());
    }
    if (api_) {
      api_backend_->set_config(cfg_);
      api_->reload(api_settings());
    }
    ++stats_.reloads;
    log::info("hbd: configuration reloaded from ", cfg_.source, " (", reg_.size(), " hosts)");
    return {};
  }

  // On the io thread: stops accepting, flushes and joins the workers.
  void shutdown() {
    if (stopped_) return;
    stopped_ = true;
    log::info("hbd: shutting down");
    asio::error_code ec;
    signals_.cancel(ec);
    ingest_.close();
    monitor_.stop();
    if (api_) api_->stop();
    if (notifier_) notifier_->stop(2);  // bounded wait
    stop_persistence();                 // journal and store flush, then the DNS worker
    io_.stop();
  }

 private:
  asio::io_context io_{1};
  config cfg_;
  server::stats stats_;
  server::host_registry reg_;
  server::ingest<policy> ingest_;
  server::monitor monitor_;
  std::unique_ptr<registry_backend> api_backend_;
  std::unique_ptr<api::http_server> api_;
  asio::signal_set signals_{io_, SIGINT, SIGTERM, SIGHUP};
  bool stopped_ = false;

  std::unique_ptr<server::journal> journal_;
  std::unique_ptr<server::store> store_;
  std::unique_ptr<server::dns_worker> dns_;

  std::unique_ptr<notify::service> notifier_;

  // The alert engine's live maintenance windows for the notifier's thread: the ruleset is
  // immutable and shared (a reload installs a new check with the new ruleset).
  notify::stages::maintenance::check_fn maintenance_check() const {
    return [rules = engine_.rules_ptr()](const std::string& host, double now) {
      return rules && alert::window_covering(rules->maintenance, host, now) != nullptr;
    };
  }

  void start_notifier() {
    cfg::diagnostics quiet;  // load_server_config reported them
    notifier_ = std::make_unique<notify::service>(
        notify::load_config(cfg_.root, quiet),
        [this](const notify::journal_record& r) {
          if (journal_) journal_->append_record("notification", r.ts, r.host, r.to_json());
        },
        [this](std::function<void()> f) { asio::post(io_, std::move(f)); });
    notifier_->set_maintenance_check(maintenance_check());
    for (auto& m : notifier_->metric_series())
      stats_.add_gauge(std::move(m.name), std::move(m.help), std::move(m.read));
    notifier_->start();
    reg_.events().subscribe(notifier_->sink(), bus::event_bit(bus::event_kind::host) |
                                                   bus::event_bit(bus::event_kind::alert) |
                                                   bus::event_bit(bus::event_kind::dropped));
  }

  // The config's users with the API's changes on top (user_overlay.hpp).
  user_overlay users_overlay_;
  std::vector<api::user> config_users_;         // as the config file defines them
  std::map<std::string, api::user> users_now_;  // effective: what the API serves

  // The API's settings with the effective users; brings the notifier's routing along.
  api::settings api_settings() {
    api::settings s = settings_from(cfg_);
    config_users_ = s.users;
    std::vector<std::string> stale;
    s.users = users_overlay_.apply(config_users_, &stale);
    double now = clock::wall_now();
    for (const auto& n : stale)
      if (store_) store_->forget_user(n, now);
    users_now_.clear();
    for (const auto& u : s.users) users_now_[u.name] = u;
    if (notifier_) {
      cfg::diagnostics quiet;  // load_server_config reported them
      sync_notifier_users(*notifier_, notify::load_config(cfg_.root, quiet), config_users_, s.users);
    }
    return s;
  }

  // A user was created, changed or deleted through /api/0/users: persist it, route by it.
  void on_api_users(const api::user_directory& d) {
    double now = clock::wall_now();
    auto changes = users_overlay_.diff(users_now_, d.all(), config_users_, now);
    if (changes.empty()) return;
    cfg::diagnostics quiet;
    notify::settings base = notify::load_config(cfg_.root, quiet);
    for (auto& c : changes) {
      if (store_ && !store_->put_user(c.name, std::move(c.record), now))
        log::error("users: store queue full: the change of user '", c.name, "' is not saved");
      if (notifier_) {
        if (c.u)
          notifier_->set_user(notify_user(*c.u, base));
        else
          notifier_->remove_user(c.name);
      }
    }
    users_now_ = d.all();
  }

  alert::engine engine_;
  std::vector<alert::transition> alert_out_;  // reused: no allocation per sample
  std::vector<json::value> alert_snapshot_;   // alert records from the store, restored by start_alerts()

  void start_alerts() {
    cfg::diagnostics quiet;  // load_server_config reported them
    engine_.set_rules(alert::compile_rules(cfg_.root, quiet));
    if (!alert_snapshot_.empty()) {
      json::value arr = json::value::array();
      for (auto& a : alert_snapshot_) arr.push_back(std::move(a));
      alert_snapshot_.clear();
      if (auto n = engine_.restore_state(arr)) log::info("alert: restored ", *n, " alert states");
    }
    reg_.hooks().plugin_sample = [this](server::host& h, const protocol::plugin_msg& m, double now) {
      // PLG data goes to the store from the raw text (the store sink skips plugin events).
      if (store_) store_->put_plugin(h.name, m.plugin, m.ts ? *m.ts : now, m.data_json);
      engine_.evaluate_plugin(h.alert_ref, h.name, m.plugin, {m.leaves.data(), m.leaf_count}, now,
                              alert_out_);
      publish_alerts();
    };
    reg_.hooks().rtt_sample = [this](server::host& h, double rtt_ms, double now) {
      engine_.evaluate_rtt(h.alert_ref, h.name, rtt_ms, now, alert_out_);
      publish_alerts();
    };
    monitor_.on_tick = [this, prev = std::move(monitor_.on_tick)](double now) {
      if (prev) prev(now);
      engine_.tick(now, alert_out_);
      publish_alerts();
    };
    reg_.events().subscribe(
        [this](const bus::event& e) {
          if (e.kind == bus::event_kind::dropped) engine_.forget_host(e.host);
        },
        bus::event_bit(bus::event_kind::dropped));
  }
  // Each transition becomes an alert event (journal, store, WebSocket, notifier):
  // data = alert::to_json(t) plus the state record the store restores from.
  void publish_alerts() {
    if (alert_out_.empty()) return;
    for (const auto& t : alert_out_) {
      bus::event e;
      e.kind = bus::event_kind::alert;
      e.ts = t.ts;
      e.host = t.host;
      e.data = alert::to_json(t);
      if (const auto* st = engine_.find(t.host, t.metric_path))
        e.data.set("state", alert::to_store_json(*st));
      log::info("alert: ", t.text, " (", t.reason, ")");
      if (t.notify)
        reg_.add_message(t.ts, t.host, t.display.empty() ? t.text : t.text + " " + t.display, "alert");
      reg_.events().publish(e);
    }
    alert_out_.clear();
  }

  static server::journal_options journal_opts(const config& c) {
    server::journal_options o;
    o.enabled = c.journal_enabled;
    o.dir = c.journal_dir;
    o.file = c.journal_file;
    o.max_size = c.journal_max_size;
    o.max_backups = c.journal_max_backups;
    return o;
  }
  static server::dns_options dns_opts(const config& c) {
    server::dns_options o;
    o.nsupdate_bin = c.nsupdate_bin;
    o.dyndomains = c.dyndomains;
    o.key_file = c.nsupdate_key;
    o.server = c.nsupdate_server;
    o.port = c.nsupdate_port;
    o.ttl = c.dns_ttl;
    o.timeout = std::chrono::milliseconds(static_cast<long long>(c.nsupdate_timeout * 1000));
    return o;
  }

  void save_dirty_hosts() {
    reg_.drain_dirty(
        [this](const server::host& h) { store_->put_host(h.name, reg_.entry_json(h), h.last_seen); });
  }

  result<void> start_persistence() {
    double now = clock::wall_now();
    server::store_options so;
    so.path = cfg_.state_db;
    so.history_retention = cfg_.history_retention;
    so.history_samples = cfg_.history_samples;
    store_ = std::make_unique<server::store>(so);
    auto snap = store_->load();
    if (!snap) return make_error("store", "state_db " + cfg_.state_db + ": " + snap.err().message);
    restore(*snap, now);
    if (auto r = store_->start([this](std::function<void()> f) { asio::post(io_, std::move(f)); }); !r)
      return make_error("store", "state_db " + cfg_.state_db + ": " + r.err().message);
    // PLG data is written from the raw text (plugin_sample), so the store reads no plugin events.
    reg_.events().subscribe(store_->sink(false),
                            bus::all_event_kinds & ~bus::event_bit(bus::event_kind::plugin));

    journal_ = std::make_unique<server::journal>(journal_opts(cfg_));
    if (auto r = journal_->start(); !r)
      return make_error("journal", "journal " + cfg_.journal_path() + ": " + r.err().message);
    // The journal writes PLG and MSG lines from the raw text (hooks), not from events.
    reg_.events().subscribe(journal_->sink(),
                            bus::all_event_kinds & ~(bus::event_bit(bus::event_kind::plugin) |
                                                     bus::event_bit(bus::event_kind::message)));
    reg_.hooks().journal_message = [this](const protocol::message&, std::string_view text,
                                          const server::source& src, std::string_view address,
                                          double t) { journal_->append_message(address, src.port, t, text); };

    dns_ = std::make_unique<server::dns_worker>(dns_opts(cfg_));
    if (!cfg_.dyndomains.empty()) {
      if (auto r = dns_->start(); !r) return make_error("dns", r.err().message);
    }
    reg_.hooks().dns_update = [this](const server::host& h, bool force) {
      if (cfg_.dyndomains.empty()) {
        if (force) log::warn("dns: ", h.name, ": no dyndomains configured");
        return;
      }
      for (const auto& c : h.conns)
        if (c.present) dns_->update(h.name, c.address, force);
    };
    // A host removed through the API loses the records hbd set for it.
    reg_.events().subscribe(
        [this](const bus::event& e) {
          if (e.kind == bus::event_kind::dropped && dns_) dns_->remove(e.host);
        },
        bus::event_bit(bus::event_kind::dropped));
    stats_.add_gauge("heartbeat_queue_depth{queue=\"journal\"}", "Lines waiting for the journal writer.",
                     [this] { return static_cast<double>(journal_ ? journal_->stats().queue_depth : 0); });
    stats_.add_gauge("heartbeat_queue_dropped_total{queue=\"journal\"}",
                     "Journal lines dropped (queue full).",
                     [this] { return static_cast<double>(journal_ ? journal_->stats().dropped : 0); });
    stats_.add_gauge("heartbeat_queue_depth{queue=\"store\"}", "Writes waiting for the store writer.",
                     [this] { return static_cast<double>(store_ ? store_->stats().queue_depth : 0); });
    stats_.add_gauge("heartbeat_queue_dropped_total{queue=\"store\"}", "Store writes dropped (queue full).",
                     [this] { return static_cast<double>(store_ ? store_->stats().dropped : 0); });
    stats_.add_gauge("heartbeat_queue_depth{queue=\"dns\"}", "DNS changes waiting for nsupdate.",
                     [this] { return static_cast<double>(dns_ ? dns_->stats().queue_depth : 0); });
    // Hosts that only moved last_seen/seq/rtt are saved about once a second.
    monitor_.every_second = [this](double) { save_dirty_hosts(); };
    return {};
  }

  void restore(const server::store_snapshot& snap, double now) {
    for (const auto& sh : snap.hosts) {
      server::host& h =
          sh.json.is_object() ? reg_.restore_host_json(sh.json, now) : reg_.restore_host(sh.name, now);
      for (const auto& p : sh.plugins) {
        if (p.history.empty()) {
          if (!p.data_json.empty()) reg_.restore_plugin_sample(h, p.name, p.ts, p.data_json);
          continue;
        }
        for (const auto& s : p.history) reg_.restore_plugin_sample(h, p.name, s.ts, s.data_json);
      }
    }
    for (const auto& c : snap.commands) reg_.restore_command_json(c);
    for (const auto& m : snap.messages) reg_.restore_message_json(m);
    reg_.apply_config(cfg_, now);     // the config wins for keys, watch, dyn and roles
    alert_snapshot_ = snap.alerts;    // restored by start_alerts() once the rules are compiled
    users_overlay_.load(snap.users);  // API changes of earlier runs
    if (!snap.hosts.empty())
      log::info("store: restored ", snap.hosts.size(), " hosts, ", snap.commands.size(), " commands, ",
                snap.messages.size(), " messages from ", cfg_.state_db);
  }

  void stop_persistence() {
    if (store_) save_dirty_hosts();
    if (dns_) dns_->stop();
    if (journal_) journal_->stop();
    if (store_) store_->stop();
  }

  void watch_signals() {
    signals_.async_wait([this](const asio::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        log::info("hbd: SIGHUP: reloading the configuration");
        (void)reload();
        watch_signals();
        return;
      }
      log::info("hbd: ", sig == SIGINT ? "SIGINT" : "SIGTERM", " received");
      shutdown();
    });
  }
};

}  // namespace heartbeat::hbd
