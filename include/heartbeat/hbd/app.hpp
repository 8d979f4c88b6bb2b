// The hbd process, composed: the core every part is wired to (hbd/core.hpp), the
// UDP ingest, and the parts in the order they start — persistence (store, journal,
// DNS), alerting, notifying, accounts, checks, remote write, http, cluster. start() binds and restores, run()
// blocks until SIGINT or SIGTERM, SIGHUP reloads the config file. Adding a part is
// one member and a line each in start(), reload() and shutdown(). Constructed and
// run on the main thread, which becomes the io thread.
#pragma once

#include <csignal>
#include <cstdint>
#include <utility>

#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/core/sd_notify.hpp"
#include "heartbeat/hbd/accounts.hpp"
#include "heartbeat/hbd/alerting.hpp"
#include "heartbeat/hbd/checks.hpp"
#include "heartbeat/hbd/cluster.hpp"
#include "heartbeat/hbd/config.hpp"
#include "heartbeat/hbd/core.hpp"
#include "heartbeat/hbd/http.hpp"
#include "heartbeat/hbd/notifying.hpp"
#include "heartbeat/hbd/persistence.hpp"
#include "heartbeat/hbd/remote_write.hpp"
#include "heartbeat/net/asio.hpp"
#include "heartbeat/protocol/system_policy.hpp"
#include "heartbeat/server/ingest.hpp"

namespace heartbeat::hbd {

class app {
 public:
  using policy = protocol::system_policy;

  explicit app(config c) : core_(std::move(c)), ingest_(core_.io, core_.reg, core_.stats) {
    ingest_.configure(core_.cfg);
  }
  app(const app&) = delete;
  app& operator=(const app&) = delete;
  ~app() { shutdown(); }

  asio::io_context& io() noexcept { return core_.io; }
  server::host_registry& reg() noexcept { return core_.reg; }
  const server::host_registry& reg() const noexcept { return core_.reg; }
  server::stats& counters() noexcept { return core_.stats; }
  const config& cfg() const noexcept { return core_.cfg; }
  std::uint16_t udp_port() const { return ingest_.port(); }

  // Opens everything; on error nothing keeps running and the caller exits 1.
  result<void> start() {
    if (auto r = persist_.start(); !r) return r;
    alerts_.start();
    notify_.start();
    accounts_.start();
    checks_.add_sample = [this](auto name, auto labels, double ts, double v) {
      (void)remote_.add_sample(name, labels, ts, v);
    };
    checks_.start();
    if (auto r = remote_.start(); !r) return r;
    const config& cfg = core_.cfg;
    if (auto r = ingest_.open(cfg.hb_host, cfg.hb_port, cfg.udp_rcvbuf); !r) return r;
    ingest_.start();
    core_.monitor.start();
    if (auto r = http_.start(); !r) return r;
    if (auto r = cluster_.start(); !r) return r;
    watch_signals();
    log::info("hbd: ready (udp port ", ingest_.port(), ", ", core_.reg.size(), " hosts known)");
    return {};
  }

  // Runs the io thread until stop.
  void run() { core_.io.run(); }

  // Thread-safe: asks the io thread to shut down.
  void request_stop() {
    core_.post([this] { shutdown(); });
  }

  // Re-reads the config file (SIGHUP): hosts, thresholds, users, notifiers and
  // limits change; state, data and sockets stay. A bad file changes nothing.
  result<void> reload() {
    config& cfg = core_.cfg;
    if (cfg.source.empty()) {
      log::info("hbd: reload: no config file (built-in defaults); nothing to do");
      return {};
    }
    cfg::diagnostics diag;
    config next = load_config_file(cfg.source, diag);
    for (const auto& d : diag.items)
      log::write(d.is_error ? log::level::error : log::level::warn, "hbd: reload: ", d.text());
    if (diag.has_errors()) {
      log::error("hbd: reload: ", cfg.source, " has errors; keeping the running configuration");
      return make_error("config", "config has errors");
    }
    if (next.hb_port != cfg.hb_port || next.hbd_port != cfg.hbd_port || next.ws_port != cfg.ws_port)
      log::warn("hbd: reload: port changes take effect at the next restart");
    next.hb_port = cfg.hb_port;
    next.hbd_port = cfg.hbd_port;
    next.ws_port = cfg.ws_port;
    cfg = std::move(next);
    core_.reg.apply_config(cfg, clock::now());
    ingest_.configure(cfg);
    alerts_.reload();
    notify_.reload();
    checks_.reload();
    http_.reload();
    remote_.reload();
    ++core_.stats.reloads;
    log::info("hbd: configuration reloaded from ", cfg.source, " (", core_.reg.size(), " hosts)");
    return {};
  }

  // On the io thread: stops accepting, flushes and joins the workers.
  void shutdown() {
    if (stopped_) return;
    stopped_ = true;
    log::info("hbd: shutting down");
    sd::notify("STOPPING=1");
    asio::error_code ec;
    signals_.cancel(ec);
    cluster_.stop();  // first: a leader going away hands its lease over
    ingest_.close();
    core_.monitor.stop();
    http_.stop();
    checks_.stop();   // states saved before the store stops
    notify_.stop();   // bounded wait
    remote_.stop();   // unsent samples go to the spool
    persist_.stop();  // dirty hosts saved, then DNS worker, journal and store flushed
    core_.io.stop();
  }

 private:
  core core_;
  server::ingest<policy> ingest_;
  persistence persist_{core_};
  alerting alerts_{core_, persist_};
  notifying notify_{core_, persist_, alerts_};
  accounts accounts_{core_, persist_, notify_};
  checking checks_{core_, persist_, alerts_, notify_};
  remote_writing remote_{core_};
  http http_{core_, persist_, alerts_, accounts_, checks_};
  cluster cluster_{core_, persist_, notify_, accounts_, http_};
  asio::signal_set signals_{core_.io, SIGINT, SIGTERM, SIGHUP};
  bool stopped_ = false;

  void watch_signals() {
    signals_.async_wait([this](const asio::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        log::info("hbd: SIGHUP: reloading the configuration");
        sd::notify("RELOADING=1");
        (void)reload();
        sd::notify("READY=1");
        watch_signals();
        return;
      }
      log::info("hbd: ", sig == SIGINT ? "SIGINT" : "SIGTERM", " received");
      shutdown();
    });
  }
};

}  // namespace heartbeat::hbd
