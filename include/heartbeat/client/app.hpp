// hbc put together: one transport per server (several hbd nodes each get their
// own connections, heartbeats, ACKs and data), the scheduler, the command runner
// (answering on the connection a CMD came in on) and `serve:` endpoint on one
// io_context, one-shot messages (-m, --boot), boot/shutdown messages (-b),
// readiness for systemd, a clean exit on SIGTERM/SIGINT and, on SIGHUP, a stop
// that hands a new configuration back to client/cli.hpp, which starts again with
// it (the start-up before all this). Main thread = io thread.
#pragma once

#include <signal.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "heartbeat/client/builtin.hpp"
#include "heartbeat/client/commands.hpp"
#include "heartbeat/client/config.hpp"
#include "heartbeat/client/scheduler.hpp"
#include "heartbeat/client/serve.hpp"
#include "heartbeat/client/startup.hpp"
#include "heartbeat/client/transport.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/sd_notify.hpp"

namespace heartbeat::client {

class app {
 public:
  app(client_config cfg, run_options o, const plugin_catalog& reg)
      : cfg_(std::move(cfg)), opts_(std::move(o)), reg_(reg) {}

  // Reads and checks the configuration file again (SIGHUP); nullopt when it has errors.
  std::function<std::optional<client_config>()> load_again;
  // After run(): the configuration a SIGHUP loaded, to start again with; nullopt after a stop.
  std::optional<client_config> take_reload() { return std::exchange(reload_, std::nullopt); }

  int run() {
    if (opts_.message || opts_.boot_only) return run_one_shot();
    config::diagnostics d;
    auto plugins = build_plugins(cfg_, reg_, io_.get_executor(), d);
    for (const auto& s : opts_.servers)
      transports_.push_back(std::make_unique<transport>(io_.get_executor(), cfg_, s));
    sched_.emplace(io_.get_executor(), std::move(plugins),
                   [this](plugin_instance& p, const std::string& data) {
                     for (auto& t : transports_) t->send_plugin(p.name, p.kind, p.interval, data);
                   });
    // Connections are numbered across servers (two per server: ipv4, ipv6): a RES goes back
    // on the connection its CMD came in on, i.e. to the node that sent it.
    commands_.emplace(io_.get_executor(), cfg_,
                      [this](std::size_t conn, const std::string& id, int rc, const std::string& out) {
                        if (conn / 2 < transports_.size())
                          transports_[conn / 2]->send_result(conn % 2, id, rc, out);
                      });
    for (std::size_t i = 0; i < transports_.size(); ++i) {
      transport& t = *transports_[i];
      t.on_request_update = [this] {
        log::info("hbc: server asked for InfoPlugin data (request_update)");
        sched_->request_update();
      };
      t.on_command = [this, i](std::size_t c, const protocol::command_msg& m) {
        commands_->on_command(i * 2 + c, m);
      };
      t.on_upgrade = [this, i](std::size_t c, const protocol::upgrade_msg& m) {
        commands_->on_upgrade(i * 2 + c, m);
      };
    }
    if (cfg_.serve.enabled) {
      serve_.emplace(io_.get_executor(), cfg_.serve, *sched_);
      auto r = serve_->start();
      if (!r) {
        log::error("hbc: ", r.err().message);
        return exit_runtime;
      }
    }
    asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
    watch_signals(signals);
    ::signal(SIGPIPE, SIG_IGN);
    net::spawn(io_, start(), "hbc");
    log::info("hbc ", version, ": ", cfg_.name, " -> ", servers_text(), " port ", cfg_.hb_port, ", every ",
              cfg_.interval, " s", cfg_.key.empty() ? "" : ", authenticated");
    io_.run();
    return exit_code_;
  }

 private:
  client_config cfg_;
  run_options opts_;
  const plugin_catalog& reg_;
  asio::io_context io_{1};
  std::vector<std::unique_ptr<transport>> transports_;
  std::optional<scheduler> sched_;
  std::optional<command_runner> commands_;
  std::optional<http_endpoint> serve_;
  bool shutting_down_ = false;
  int exit_code_ = exit_ok;
  std::optional<client_config> reload_;

  // SIGTERM, SIGINT: stop. SIGHUP: a configuration without errors stops this run for the next one;
  // one with errors changes nothing.
  void watch_signals(asio::signal_set& signals) {
    signals.async_wait([this, &signals](const asio::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        auto next = load_again ? load_again() : std::nullopt;
        if (!next) {
          log::error("hbc: SIGHUP: the configuration has errors; keeping the running one");
          watch_signals(signals);
          return;
        }
        log::info("hbc: SIGHUP: restarting with the configuration read again");
        sd::notify("RELOADING=1");
        reload_ = std::move(next);
        net::spawn(io_, shutdown(), "hbc reload");
        return;
      }
      log::info("hbc: signal ", sig, ", shutting down");
      sd::notify("STOPPING=1");
      net::spawn(io_, shutdown(), "hbc shutdown");
    });
  }

  std::string servers_text() const {
    std::string out;
    for (const auto& s : opts_.servers) out += (out.empty() ? "" : ", ") + s;
    return out;
  }

  net::awaitable<void> start() {
    for (auto& t : transports_) {
      co_await t->open_all();
      if (opts_.boot_messages && !opts_.reloaded) t->send_message("boot", protocol::msg_event::boot);
      net::spawn(io_, t->run(), "transport");
    }
    sd::notify("READY=1");
    co_await sched_->start();
  }

  net::awaitable<void> shutdown() {
    if (shutting_down_) co_return;
    shutting_down_ = true;
    if (opts_.boot_messages && !reload_) {
      for (auto& t : transports_) {
        co_await t->open_all();
        t->send_message("shutdown", protocol::msg_event::shutdown);
      }
    }
    co_await sched_->stop();
    if (serve_) serve_->stop();
    for (auto& t : transports_) t->stop();
    io_.stop();
  }

  // -m TEXT or --boot: send one MSG to every server and exit (0 when any of them got it).
  int run_one_shot() {
    bool any = false;
    for (const auto& server : opts_.servers) {
      transport t(io_.get_executor(), cfg_, server);
      bool sent = false;
      net::spawn(
          io_,
          [](transport& t, const run_options& o, bool& sent) -> net::awaitable<void> {
            if (co_await t.open_all()) {
              if (o.boot_only) sent = t.send_message("boot", protocol::msg_event::boot);
              if (o.message)
                sent = t.send_message(*o.message, protocol::msg_event::message) && (sent || !o.boot_only);
            }
            t.stop();
          }(t, opts_, sent),
          "hbc");
      io_.restart();
      io_.run();
      if (!sent) log::error("hbc: could not send the message to ", server);
      any = any || sent;
    }
    return any ? exit_ok : exit_runtime;
  }
};

}  // namespace heartbeat::client
