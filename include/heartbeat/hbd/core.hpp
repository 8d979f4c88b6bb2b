// What every part of hbd is wired to: the io_context (the one thread that runs
// ingest, the host registry, the monitor, the alert engine and the HTTP API), the
// effective configuration, the counters, the host registry and the monitor. Owned
// by hbd::app; each part keeps a reference. io thread after start-up.
#pragma once

#include <functional>
#include <utility>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/hbd/config.hpp"
#include "heartbeat/net/asio.hpp"
#include "heartbeat/server/host_registry.hpp"
#include "heartbeat/server/monitor.hpp"
#include "heartbeat/server/stats.hpp"

namespace heartbeat::hbd {

struct core {
  explicit core(config c) : cfg(std::move(c)), reg(cfg, stats, clock::now()), monitor(io, reg) {}
  core(const core&) = delete;
  core& operator=(const core&) = delete;

  asio::io_context io{1};
  config cfg;
  server::stats stats;
  server::host_registry reg;
  server::monitor monitor;

  // Runs `f` on the io thread; any thread may call it (workers post their results back).
  void post(std::function<void()> f) { asio::post(io, std::move(f)); }
  std::function<void(std::function<void()>)> poster() {
    return [this](std::function<void()> f) { post(std::move(f)); };
  }
};

}  // namespace heartbeat::hbd
