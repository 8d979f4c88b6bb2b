// hbc's start-up once the command line is parsed (src/main_client.cpp): the
// config file (default ~/.hbc.yaml) validated with every plugin's options before
// anything runs, its diagnostics on stderr, daemonizing with syslog, then
// client::app, started again with the new configuration after each SIGHUP.
// Main thread, before the io_context runs.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "heartbeat/client/app.hpp"
#include "heartbeat/client/builtin.hpp"
#include "heartbeat/client/config.hpp"
#include "heartbeat/client/startup.hpp"
#include "heartbeat/config/file.hpp"
#include "heartbeat/core/daemon.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/sd_notify.hpp"

namespace heartbeat::client {

// Loads and validates the configuration, plugins included; prints every
// diagnostic as `path: message` on stderr. nullopt on any error.
inline std::optional<client_config> load_and_check(const run_options& o, const plugin_catalog& reg) {
  return load_config_file(o.config_path, ".hbc.yaml", "hbc",
                          [&](const json::value&, const client_config& cfg, config::diagnostics& d) {
                            asio::io_context scratch;  // plugins read and check their options at construction
                            auto plugins = build_plugins(cfg, reg, scratch.get_executor(), d);
                          });
}

// Detached (core/daemon.hpp), umask 022, logging to syslog (LOG_DAEMON).
inline bool daemonize() {
  if (!detach_from_terminal()) return false;
  ::umask(022);
  log::use_syslog("hbc");
  return true;
}

// Runs hbc with the built-in plugins as `o` asks; returns the exit status.
inline int run(const run_options& o) {
  sd::take_socket();
  if (o.verbose) log::set_level(log::level::debug);
  plugin_catalog reg;
  add_builtin_plugins(reg);
  auto cfg = load_and_check(o, reg);
  if (!cfg) return exit_usage;
  if (o.daemonize && !daemonize()) {
    log::error("hbc: cannot daemonize");
    return exit_runtime;
  }
  run_options opts = o;
  try {
    for (;;) {
      app a(std::move(*cfg), opts, reg);
      a.load_again = [&] { return load_and_check(o, reg); };
      int rc = a.run();
      cfg = a.take_reload();
      if (!cfg) return rc;
      opts.reloaded = true;
    }
  } catch (const std::exception& e) {
    log::error("hbc: ", e.what());
    return exit_runtime;
  }
}

}  // namespace heartbeat::client
