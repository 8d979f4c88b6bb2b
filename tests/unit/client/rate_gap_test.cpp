// Rates from two samples at least a second apart: cpu_monitor, disk_monitor and network_monitor
// sample at initialize(), and a collect that comes sooner than a second after the previous sample
// waits out the rest (the first one after start-up, and one right after another).
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "heartbeat/client/builtin.hpp"
#include "heartbeat/client/config.hpp"
#include "heartbeat/client/scheduler.hpp"
#include "heartbeat/config/yaml.hpp"

using namespace heartbeat;
using namespace heartbeat::client;

namespace {

template <class T>
T run_on(asio::io_context& io, asio::awaitable<T> a) {
  std::optional<T> out;
  auto store = [](asio::awaitable<T> a, std::optional<T>& o) -> asio::awaitable<void> {
    o.emplace(co_await std::move(a));
  };
  asio::co_spawn(io, store(std::move(a), out), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.restart();
  io.run();
  return std::move(*out);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST(RateGap, FirstCollectComesASecondAfterTheFirstSample) {
  asio::io_context io;
  plugin_catalog reg;
  add_builtin_plugins(reg);
  config::diagnostics d;
  auto cfg = load_client_config(*config::parse_yaml("default_plugins: false\nplugins:\n"
                                                    "  cpu_monitor: {per_core: true}\n"
                                                    "  disk_monitor: {}\n"
                                                    "  network_monitor: {include_loopback: true}\n"),
                                d);
  auto plugins = build_plugins(cfg, reg, io.get_executor(), d);
  ASSERT_FALSE(d.has_errors());
  ASSERT_EQ(plugins.size(), 3u);
  for (auto& p : plugins) {
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_on(io, p->impl->initialize()).ok()) << p->name;
    auto first = run_on(io, p->impl->collect());
    ASSERT_TRUE(first.ok()) << p->name;
    EXPECT_GE(seconds_since(t0), 0.99) << p->name << ": the first collect must wait for a second sample";
    auto t1 = std::chrono::steady_clock::now();
    auto second = run_on(io, p->impl->collect());
    ASSERT_TRUE(second.ok()) << p->name;
    EXPECT_GE(seconds_since(t1), 0.99) << p->name << ": a collect right after another waits too";
    if (p->name == "cpu_monitor") {
      double pct = first->find("cpu_percent")->as_number();
      EXPECT_GE(pct, 0);
      EXPECT_LE(pct, 100);
    }
    if (p->name == "network_monitor") {
      const json::value* lo = first->find("interfaces")->find("lo");
      ASSERT_TRUE(lo);
      EXPECT_TRUE(lo->contains("rx_bytes_per_sec"));
    }
  }
}
