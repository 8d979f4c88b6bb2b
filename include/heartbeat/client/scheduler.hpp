// Builds the configured plugin instances and runs them: InfoPlugins once
// (cached; again on the server's request_update), MonitorPlugins at absolute
// deadlines with a doubling backoff after consecutive failures. A failing
// initialize is logged and the plugin skipped; a failing collect publishes
// {"error": ...}. Everything runs on hbc's single io_context thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "heartbeat/client/config.hpp"
#include "heartbeat/client/plugin.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::client {

struct plugin_instance {
  std::string name;  // instance name: PLG `plugin`
  std::string type;  // plugin type name
  plugin_kind kind = plugin_kind::monitor;
  double interval = 0;  // seconds between collects (monitor plugins)
  std::unique_ptr<any_plugin> impl;
  bool active = false;               // initialized successfully
  std::optional<std::string> cache;  // InfoPlugins: the cached data (JSON text)
  std::string latest;                // latest data sent (JSON text), for `serve:`
  double latest_ts = 0;              // Unix time of `latest`
  unsigned failures = 0;             // consecutive failed collects
  std::uint64_t collects = 0, errors = 0;
  bool refreshing = false;  // an InfoPlugin refresh is in flight
};

// Creates the instances the config asks for. Framework keys of each
// `plugins.<name>` section: enabled (true), interval (the type's default),
// type (the section's name). Everything else belongs to the plugin.
inline std::vector<std::unique_ptr<plugin_instance>> build_plugins(const client_config& cfg,
                                                                   const plugin_catalog& reg,
                                                                   asio::any_io_executor ex,
                                                                   config::diagnostics& d) {
  std::vector<std::unique_ptr<plugin_instance>> out;
  auto make = [&](const std::string& name, const json::value& section) {
    std::string path = "plugins." + name;
    if (!section.is_object() && !section.is_null() && !section.is_bool()) {
      d.error(path, "must be a mapping of settings (or true/false)");
      return;
    }
    json::value empty = json::value::object();
    const json::value& sec = section.is_object() ? section : empty;
    config::object_reader r(sec, path, d);
    bool enabled = section.is_bool() ? section.as_bool() : true;
    r.get("enabled", enabled);
    std::string type = name;
    r.get("type", type);
    const plugin_catalog::entry* e = reg.find(type);
    if (!e) {
      std::string known;
      for (const auto& [k, _] : reg.types()) known += (known.empty() ? "" : ", ") + k;
      d.error(section.is_object() && sec.contains("type") ? path + ".type" : path,
              "unknown plugin type \"" + type + "\" (known: " + known + ")");
      return;
    }
    double interval = e->default_interval;
    r.get_duration("interval", interval);
    if (e->kind == plugin_kind::monitor && interval < 1)
      d.error(path + ".interval", "must be at least 1 second");
    if (!enabled) {
      r.known({"interval"});
      return;
    }
    auto pi = std::make_unique<plugin_instance>();
    pi->name = name;
    pi->type = type;
    pi->kind = e->kind;
    pi->interval = interval;
    plugin_context ctx{name, ex, r};
    try {
      pi->impl = e->make(ctx);
    } catch (const std::exception& ex) {
      d.error(path, ex.what());
      return;
    }
    r.finish();
    out.push_back(std::move(pi));
  };
  for (const auto& [name, section] : cfg.plugins.as_object()) make(name, section);
  if (cfg.default_plugins)
    for (const auto& [type, e] : reg.types())
      if (e.on_by_default && !cfg.plugins.contains(type)) make(type, json::value());
  return out;
}

class scheduler {
 public:
  // Receives each collected data object (JSON text) to send.
  using sink = std::function<void(plugin_instance&, const std::string& data_json)>;

  scheduler(asio::any_io_executor ex, std::vector<std::unique_ptr<plugin_instance>> plugins, sink s)
      : ex_(std::move(ex)), plugins_(std::move(plugins)), sink_(std::move(s)) {}

  const std::vector<std::unique_ptr<plugin_instance>>& plugins() const { return plugins_; }

  // Initializes every plugin (failures logged and skipped), sends the
  // InfoPlugins, then starts one loop per MonitorPlugin.
  net::awaitable<void> start() {
    for (auto& p : plugins_) {
      result<void> r = make_error("exception", "initialize threw");
      try {
        r = co_await p->impl->initialize();
      } catch (const std::exception& e) {
        r = make_error("exception", e.what());
      }
      if (!r) {
        log::warn(p->name, ": initialize failed, plugin skipped: ", r.err().message);
        continue;
      }
      p->active = true;
      log::debug(
          p->name, ": initialized (", to_string(p->kind), p->kind == plugin_kind::monitor ? ", every " : "",
          p->kind == plugin_kind::monitor ? json::value(p->interval).dump() + " s" : std::string(), ")");
    }
    for (auto& p : plugins_) {
      if (!p->active) continue;
      if (p->kind == plugin_kind::info)
        net::spawn(ex_, refresh_info(*p), p->name);
      else
        net::spawn(ex_, monitor_loop(*p), p->name);
    }
  }

  // The server asked for InfoPlugin data (ACK request_update): drop every
  // cache, collect again and send at once.
  void request_update() {
    for (auto& p : plugins_) {
      if (!p->active || p->kind != plugin_kind::info || p->refreshing) continue;
      p->cache.reset();
      net::spawn(ex_, refresh_info(*p), p->name);
    }
  }

  // Stops the loops and runs every cleanup (each bounded to 5 s).
  net::awaitable<void> stop() {
    stopping_ = true;
    for (auto* t : timers_) t->cancel();
    for (auto& p : plugins_) {
      if (!p->active) continue;
      try {
        if (!co_await net::with_timeout(p->impl->cleanup(), std::chrono::seconds(5)))
          log::warn(p->name, ": cleanup timed out");
      } catch (const std::exception& e) {
        log::warn(p->name, ": cleanup failed: ", e.what());
      }
      p->active = false;
    }
  }

  // Backoff after `failures` consecutive failed collects: the interval doubles
  // each time, up to 16 times the interval (collectd's rule with a cap).
  static double retry_delay(double interval, unsigned failures) {
    if (failures <= 1) return interval;
    return interval * std::pow(2.0, std::min(failures - 1, 4u));
  }

 private:
  asio::any_io_executor ex_;
  std::vector<std::unique_ptr<plugin_instance>> plugins_;
  sink sink_;
  bool stopping_ = false;
  std::vector<asio::steady_timer*> timers_;

  net::awaitable<result<json::value>> collect(plugin_instance& p) {
    try {
      co_return co_await p.impl->collect();
    } catch (const std::exception& e) {
      co_return make_error("exception", e.what());
    }
  }

  // Publishes a collect's outcome; returns whether it succeeded.
  bool publish(plugin_instance& p, const result<json::value>& r) {
    ++p.collects;
    std::string text;
    if (r && r->is_object()) {
      text = r->dump();
      p.failures = 0;
    } else {
      ++p.errors;
      ++p.failures;
      std::string msg = r ? std::string("collect returned no JSON object") : r.err().message;
      log::warn(p.name, ": collect failed (", p.failures, " in a row): ", msg);
      json::value e = json::value::object();
      e.set("error", msg);
      text = e.dump();
    }
    p.latest = text;
    p.latest_ts = clock::wall_now();
    if (p.kind == plugin_kind::info && p.failures == 0) p.cache = text;
    sink_(p, text);
    return p.failures == 0;
  }

  net::awaitable<void> refresh_info(plugin_instance& p) {
    p.refreshing = true;
    if (p.cache) {
      sink_(p, *p.cache);
    } else {
      auto r = co_await collect(p);
      if (!stopping_) publish(p, r);
    }
    p.refreshing = false;
  }

  net::awaitable<void> monitor_loop(plugin_instance& p) {
    using clock = std::chrono::steady_clock;
    asio::steady_timer timer(ex_);
    timers_.push_back(&timer);
    auto interval = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(p.interval));
    auto next = clock::now();
    while (!stopping_) {
      timer.expires_at(next);
      co_await timer.async_wait(net::as_tuple_awaitable);
      if (stopping_) break;
      auto r = co_await collect(p);
      if (stopping_) break;
      bool ok = publish(p, r);
      auto now = clock::now();
      if (ok) {
        // Absolute deadlines: stay on the start-up phase, skip missed slots.
        next += interval;
        if (next <= now) next += ((now - next) / interval + 1) * interval;
      } else {
        next = now + std::chrono::duration_cast<clock::duration>(
                         std::chrono::duration<double>(retry_delay(p.interval, p.failures)));
      }
    }
    std::erase(timers_, &timer);
  }
};

}  // namespace heartbeat::client
