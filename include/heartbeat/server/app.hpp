// The hbd process, composed: owns the io_context (the one thread that runs
// ingest, the registry, the monitor, the alert engine and the HTTP API), the
// config, the stats, the registry and the UDP ingest, and wires in the parts
// other helpers own (journal/store/dns, alert engine, notifier, API) at the
// marked sections. start() binds and restores, run() blocks until SIGINT or
// SIGTERM, SIGHUP reloads the config file. Constructed and run on the main thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/net/asio.hpp"
#include "heartbeat/protocol/system_policy.hpp"
#include "heartbeat/server/config.hpp"
#include "heartbeat/api/registry_backend.hpp"
#include "heartbeat/server/ingest.hpp"
#include "heartbeat/server/monitor.hpp"
#include "heartbeat/server/registry.hpp"
#include "heartbeat/server/stats.hpp"

namespace heartbeat::server {

class app {
 public:
  using policy = protocol::system_policy;

  explicit app(config c)
      : cfg_(std::move(c)), reg_(cfg_, stats_, wall_now()), ingest_(io_, reg_, stats_), monitor_(io_, reg_) {
    ingest_.configure(cfg_);
  }
  app(const app&) = delete;
  app& operator=(const app&) = delete;
  ~app() { shutdown(); }

  asio::io_context& io() noexcept { return io_; }
  registry& reg() noexcept { return reg_; }
  const registry& reg() const noexcept { return reg_; }
  stats& counters() noexcept { return stats_; }
  const config& cfg() const noexcept { return cfg_; }
  std::uint16_t udp_port() const { return ingest_.port(); }

  // Opens everything; on error nothing keeps running and the caller exits 1.
  result<void> start() {
    // ==== PERSIST: open the store, restore hosts/plugins/alerts/commands/messages
    // into reg_ (registry::restore_host, restore_message, note_command_id), then
    // start the journal writer and subscribe journal + store as event sinks,
    // and set reg_.hooks().journal_message; start the DNS worker and set
    // reg_.hooks().dns_update.

    // ==== ALERT: build the engine from the compiled ruleset; set
    // reg_.hooks().plugin_sample / rtt_sample; the monitor calls engine tick.

    // ==== NOTIFY: start the notifier; subscribe it to host events (transition.notify)
    // and hand it alert transitions that notify.

    if (auto r = ingest_.open(cfg_.hb_host, cfg_.hb_port, cfg_.udp_rcvbuf); !r) return r;
    ingest_.start();
    monitor_.start();

    // ==== API: start the HTTP server (hbd_host:hbd_port) and WebSocket (ws_port)
    // on io_; it reads reg_ and stats_ directly on this thread.
    // Set api_backend_->set_engine(&engine) / set_store(&store) where those are built.
    api_backend_ = std::make_unique<api::registry_backend>(reg_, stats_, cfg_);
    api_ = std::make_unique<api::http_server>(io_, api::settings_from(cfg_), *api_backend_);
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
    config next = load_server_config_file(cfg_.source, diag);
    for (const auto& d : diag.items) log::write(d.is_error ? log::level::error : log::level::warn, "hbd: reload: ", d.text());
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
    reg_.apply_config(cfg_, wall_now());
    ingest_.configure(cfg_);
    // ==== ALERT: engine_.set_rules(compiled rules)
    // ==== NOTIFY: notifier_.update(settings, users)
    // ==== API
    if (api_) {
      api_backend_->set_config(cfg_);
      api_->reload(api::settings_from(cfg_));
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
    // ==== API: stop the HTTP/WebSocket servers
    if (api_) api_->stop();
    // ==== NOTIFY: stop the notifier (bounded wait)
    // ==== PERSIST: stop the journal and the store (flush), stop the DNS worker
    io_.stop();
  }

 private:
  asio::io_context io_{1};
  config cfg_;
  stats stats_;
  registry reg_;
  ingest<policy> ingest_;
  monitor monitor_;
  std::unique_ptr<api::registry_backend> api_backend_;  // ==== API
  std::unique_ptr<api::http_server> api_;
  asio::signal_set signals_{io_, SIGINT, SIGTERM, SIGHUP};
  bool stopped_ = false;

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

}  // namespace heartbeat::server
