// hbc_mini's plugins (docs/MINI.md "Plugins"): os_info, cpu_monitor, memory_monitor,
// disk_monitor (`df -P`), network_monitor, ping_monitor and nagios_runner, built
// from the `plugins:` section with the same keys and the same pure readers as hbc
// (include/heartbeat/readers/), run from the mini loop; subprocesses go through
// child_set so they never block heartbeats. Main thread only.
#pragma once

#include <unistd.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "heartbeat/client/config.hpp"
#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/enum_names.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/version.hpp"
#include "heartbeat/mini/process.hpp"
#include "heartbeat/readers/readers.hpp"

namespace heartbeat::mini {

enum class plugin_type : std::uint8_t { os_info, cpu, memory, disk, network, ping, nagios };

inline constexpr enum_names<plugin_type::nagios> plugin_type_names{
    {"os_info", "cpu_monitor", "memory_monitor", "disk_monitor", "network_monitor", "ping_monitor",
     "nagios_runner"},
    "?"};

inline const char* to_string(plugin_type t) noexcept { return plugin_type_names[t]; }

struct nagios_check {
  std::string name;
  std::vector<std::string> argv;
  double timeout = 30;
};

// One configured plugin instance and the state its reader keeps between runs.
struct plugin {
  std::string name;
  plugin_type type = plugin_type::os_info;
  bool info = false;      // InfoPlugin: sent at start and on request_update
  double interval = 300;  // MonitorPlugin period, seconds
  double next_due = 0;    // monotonic seconds
  bool busy = false;      // a collection is running (subprocesses)
  // cpu_monitor
  readers::cpu_reader cpu;
  readers::cpu_reader::options cpu_opts;
  // network_monitor
  bool loopback = false, connections = true, tcp_states = false;
  std::vector<std::string> interfaces;
  std::map<std::string, readers::iface_counters> net_prev;
  double net_prev_time = 0;
  // disk_monitor
  bool all = false;
  std::string df = "df";
  // ping_monitor
  std::vector<std::string> hosts;
  unsigned count = 3;
  double timeout = 10;
  std::string ping = "ping";
  // nagios_runner
  std::vector<nagios_check> checks;
};

// Types only the full hbc has: listed in a shared config they are skipped with a warning.
inline bool hbc_only_type(std::string_view t) {
  return t == "filesystem_info" || t == "zfs_monitor" || t == "exec";
}

inline bool parse_type(std::string_view t, plugin_type& out) {
  for (auto p : {plugin_type::os_info, plugin_type::cpu, plugin_type::memory, plugin_type::disk,
                 plugin_type::network, plugin_type::ping, plugin_type::nagios})
    if (t == to_string(p)) {
      out = p;
      return true;
    }
  return false;
}

inline result<std::map<std::string, readers::iface_counters>> net_sample(const plugin& p) {
  auto t = readers::read_file({}, "/proc/net/dev");
  if (!t) return t.err();
  auto all = readers::parse_net_dev(*t);
  if (p.interfaces.empty()) return all;
  std::map<std::string, readers::iface_counters> only;
  for (const auto& i : p.interfaces)
    if (auto it = all.find(i); it != all.end()) only.insert(*it);
  return only;
}

// Reads one plugin section (null: defaults). Errors name the key path.
inline std::unique_ptr<plugin> make_plugin(const std::string& name, const json::value& section,
                                           config::diagnostics& d) {
  std::string path = "plugins." + name;
  json::value empty = json::value::object();
  const json::value& sec = section.is_null() ? empty : section;
  if (!sec.is_object()) {
    d.error(path, "must be a mapping of settings");
    return nullptr;
  }
  config::object_reader r(sec, path, d);
  std::string type = name;
  r.get("type", type);
  bool enabled = true;
  r.get("enabled", enabled);
  if (hbc_only_type(type)) {
    d.warn(path, "\"" + type + "\" is not available in hbc_mini; skipped");
    return nullptr;
  }
  auto p = std::make_unique<plugin>();
  p->name = name;
  if (!parse_type(type, p->type)) {
    d.error(
        sec.contains("type") ? path + ".type" : path,
        "unknown plugin type \"" + type +
            "\" (known: os_info, cpu_monitor, memory_monitor, disk_monitor, network_monitor, ping_monitor, "
            "nagios_runner)");
    return nullptr;
  }
  p->info = p->type == plugin_type::os_info;
  p->interval = p->info ? 0 : 300;
  r.get_duration("interval", p->interval);
  if (!p->info && p->interval < 1) d.error(path + ".interval", "must be at least 1 second");
  switch (p->type) {
    case plugin_type::os_info:
    case plugin_type::memory: break;
    case plugin_type::cpu:
      r.get("per_core", p->cpu_opts.per_core);
      r.get("frequency", p->cpu_opts.frequency);
      r.get("processes", p->cpu_opts.processes);
      break;
    case plugin_type::network:
      r.get("include_loopback", p->loopback);
      r.get("interfaces", p->interfaces);
      r.get("connections", p->connections);
      r.get("tcp_states", p->tcp_states);
      break;
    case plugin_type::disk:
      r.get("all", p->all);
      r.get("df", p->df);
      r.known({"mount_points", "network_fs", "io"});
      break;
    case plugin_type::ping:
      r.get("hosts", p->hosts);
      r.get("count", p->count, 1, 100);
      r.get_duration("timeout", p->timeout);
      r.get("ping", p->ping);
      if (p->hosts.empty()) d.error(path + ".hosts", "is required: a list of host names or addresses");
      for (const auto& h : p->hosts)
        if (h.empty() || h[0] == '-' || h.find_first_of(" \t/") != std::string::npos)
          d.error(path + ".hosts", "\"" + h + "\" is not a host name or address");
      break;
    case plugin_type::nagios: {
      double timeout = 30;
      r.get_duration("timeout", timeout);
      const json::value* cmds = r.raw("commands");
      if (!cmds || !cmds->is_array()) {
        d.error(path + ".commands",
                cmds ? "must be a list of {name, command}" : "is required: a list of {name, command}");
        break;
      }
      std::size_t i = 0;
      for (const auto& e : cmds->as_array()) {
        std::string cpath = path + ".commands." + std::to_string(i++);
        config::object_reader cr(e, cpath, d);
        nagios_check ch;
        ch.timeout = timeout;
        cr.get("name", ch.name);
        if (ch.name.empty() || readers::sanitize_key(ch.name) != ch.name) {
          d.error(cpath + ".name", "is required: letters, digits, '_', '-' or '.'");
          continue;
        }
        const json::value* cmd = cr.raw("command");
        if (!cmd) {
          d.error(cpath + ".command", "is required");
          continue;
        }
        if (!client::detail::read_argv(*cmd, cpath + ".command", d, ch.argv)) continue;
        cr.get_duration("timeout", ch.timeout);
        cr.finish();
        p->checks.push_back(std::move(ch));
      }
      break;
    }
  }
  r.finish();
  if (!enabled) return nullptr;
  return p;
}

// Every configured plugin, plus (default_plugins) os_info and the four /proc
// monitors when not listed, as hbc does.
inline std::vector<std::unique_ptr<plugin>> build_plugins(const client::client_config& cfg,
                                                          config::diagnostics& d) {
  std::vector<std::unique_ptr<plugin>> out;
  std::vector<std::string> listed_types;
  for (const auto& [name, section] : cfg.plugins.as_object()) {
    listed_types.push_back(section.is_object() ? section.string_or("type", name) : name);
    if (auto p = make_plugin(name, section, d)) out.push_back(std::move(p));
  }
  if (cfg.default_plugins)
    for (const char* t : {"os_info", "cpu_monitor", "memory_monitor", "disk_monitor", "network_monitor"})
      if (std::find(listed_types.begin(), listed_types.end(), t) == listed_types.end())
        if (auto p = make_plugin(t, json::value(), d)) out.push_back(std::move(p));
  return out;
}

// Readers keep their previous sample so the first report covers the time since start-up.
inline void prime(plugin& p) {
  if (p.type == plugin_type::cpu) (void)p.cpu.read(p.cpu_opts);
  if (p.type == plugin_type::network) {
    if (auto s = net_sample(p)) p.net_prev = std::move(*s);
    p.net_prev_time = mono_now();
  }
}

using collect_done = std::function<void(plugin&, result<json::value>)>;

// Collects one plugin: at once for /proc readers, through `children` for the others.
inline void collect(plugin& p, child_set& children, collect_done done) {
  switch (p.type) {
    case plugin_type::os_info: {
      json::value v = readers::read_os_info();
      v.set("agent", std::string("hbc_mini/") + version);
      return done(p, std::move(v));
    }
    case plugin_type::cpu: return done(p, p.cpu.read(p.cpu_opts));
    case plugin_type::memory: return done(p, readers::read_memory());
    case plugin_type::network: {
      auto s = net_sample(p);
      if (!s) return done(p, s.err());
      double now = mono_now();
      json::value v = readers::network_json(p.net_prev, *s, now - p.net_prev_time, p.loopback);
      p.net_prev = std::move(*s);
      p.net_prev_time = now;
      if (p.connections) {
        json::value conns = readers::read_connections(p.tcp_states);
        if (conns.size()) v.set("connections", std::move(conns));
      }
      return done(p, std::move(v));
    }
    case plugin_type::disk:
      p.busy = true;
      children.spawn({p.df, "-P"}, 30, 1u << 20, {}, [&p, done](process_result&& r) {
        p.busy = false;
        if (!r.spawned) return done(p, make_error("spawn", r.error));
        if (r.timed_out) return done(p, make_error("timeout", "df -P timed out"));
        json::value v = json::value::object();
        v.set("partitions", readers::partitions_from_df(r.out, p.all));
        if (v.find("partitions")->size() == 0 && r.rc != 0)
          return done(p, make_error("df", "df -P failed (rc " + std::to_string(r.rc) + "): " + r.err));
        done(p, std::move(v));
      });
      return;
    case plugin_type::ping:
    case plugin_type::nagios: {
      // All hosts / checks at once; the data goes out when the last one ends.
      std::size_t n = p.type == plugin_type::ping ? p.hosts.size() : p.checks.size();
      if (n == 0) return done(p, json::value::object());
      auto results = std::make_shared<std::vector<process_result>>(n);
      auto left = std::make_shared<std::size_t>(n);
      p.busy = true;
      for (std::size_t i = 0; i < n; ++i) {
        std::vector<std::string> argv;
        double timeout;
        if (p.type == plugin_type::ping) {
          argv = {p.ping, "-n", "-q", "-c", std::to_string(p.count), "-i", "0.2", "-W", "2", p.hosts[i]};
          timeout = p.timeout;
        } else {
          argv = p.checks[i].argv;
          timeout = p.checks[i].timeout;
        }
        children.spawn(argv, timeout, 64 * 1024, {}, [&p, done, results, left, i](process_result&& r) {
          (*results)[i] = std::move(r);
          if (--*left) return;
          p.busy = false;
          json::value v = json::value::object();
          if (p.type == plugin_type::ping) {
            json::value hosts = json::value::object();
            for (std::size_t k = 0; k < results->size(); ++k) {
              if (!(*results)[k].spawned) return done(p, make_error("spawn", (*results)[k].error));
              hosts.set(p.hosts[k], readers::ping_json(readers::parse_ping_output((*results)[k].out)));
            }
            v.set("hosts", std::move(hosts));
          } else {
            for (std::size_t k = 0; k < results->size(); ++k) {
              const auto& res = (*results)[k];
              std::string err = res.spawned ? res.err : res.error;
              if (res.timed_out)
                err = "UNKNOWN - plugin timed out after " + json::value(p.checks[k].timeout).dump() + " s";
              int rc = res.timed_out || !res.spawned ? 3 : res.rc;
              readers::add_nagios_fields(v, p.checks[k].name, rc,
                                         res.timed_out ? std::string_view{} : res.out, err);
            }
          }
          done(p, std::move(v));
        });
      }
      return;
    }
  }
}

}  // namespace heartbeat::mini
