// hbc put together: one transport per server (several hbd nodes each get their
// own connections, heartbeats, ACKs and data), the scheduler, the command runner
// (answering on the connection a CMD came in on) and `serve:` endpoint on one
// io_context, one-shot messages (-m, --boot), boot/shutdown messages (-b) and a
// clean exit on SIGTERM/SIGINT (the start-up before it: client/cli.hpp). Main
// thread = io thread.
#pragma once

#include <signal.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "heartbeat/client/builtin.hpp"
#include "heartbeat/client/commands.hpp"
#include "heartbeat/client/config.hpp"
#include "heartbeat/client/scheduler.hpp"
#include "heartbeat/client/serve.hpp"
#include "heartbeat/client/transport.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::client {

struct run_options {
  std::vector<std::string> servers;  // SERVER [SERVER...]: every hbd node gets everything
  std::string config_path;           // empty: ~/.hbc.yaml when it exists
  bool daemonize = false;
  bool boot_messages = false;          // -b
  bool boot_only = false;              // --boot
  std::optional<std::string> message;  // -m
  bool verbose = false;
};

// Exit status (docs/CLIENT.md): 0 success, 1 runtime error, 2 usage or configuration error.
inline constexpr int exit_ok = 0, exit_runtime = 1, exit_usage = 2;

class app {
 public:
  app(client_config cfg, run_options o, const plugin_catalog& reg)
      : cfg_(std::move(cfg)), opts_(std::move(o)), reg_(reg) {}

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
    asio::signal_set signals(io_, SIGINT, SIGTERM);
    signals.async_wait([this](const asio::error_code& ec, int sig) {
      if (ec) return;
      log::info("hbc: signal ", sig, ", shutting down");
      net::spawn(io_, shutdown(), "hbc shutdown");
    });
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

  std::string servers_text() const {
    std::string out;
    for (const auto& s : opts_.servers) out += (out.empty() ? "" : ", ") + s;
    return out;
  }

  net::awaitable<void> start() {
    for (auto& t : transports_) {
      co_await t->open_all();
      if (opts_.boot_messages) t->send_message("boot", protocol::msg_event::boot);
      net::spawn(io_, t->run(), "transport");
    }
    co_await sched_->start();
  }

  net::awaitable<void> shutdown() {
    if (shutting_down_) co_return;
    shutting_down_ = true;
    if (opts_.boot_messages) {
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
