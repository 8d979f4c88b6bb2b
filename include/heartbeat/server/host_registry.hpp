// The registry: the single owner of host state in hbd. Applies accepted
// messages (HTB, PLG, MSG, RES), runs the state machine (UNKNOWN, UP, LATE,
// DOWN, STOPPED per connection and host), keeps the command queues and the
// messages ring, and publishes events. Lives on the io thread: ingest, the
// monitor, the alert engine and the API call it there; nothing here locks.
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/core/string_map.hpp"
#include "heartbeat/protocol/messages.hpp"
#include "heartbeat/server/config.hpp"
#include "heartbeat/bus/events.hpp"
#include "heartbeat/server/host.hpp"
#include "heartbeat/server/stats.hpp"

namespace heartbeat::server {

// One entry of the messages ring (GET /api/0/messages).
struct message_entry {
  double time = 0;
  std::string host;
  std::string msg;
  std::string event;  // "message", "boot", "shutdown" (from the host) or "state", "reboot" (from hbd)
};

// What ingest needs to answer an HTB.
struct heartbeat_result {
  host* h = nullptr;
  int request_update = 0;
};

// Parts wired by app.hpp. Each is optional and called on the io thread.
struct registry_hooks {
  // A PLG was stored (the alert engine evaluates msg.leaves here).
  std::function<void(host&, const protocol::plugin_msg&, double now)> plugin_sample;
  // An HTB carried rtt (ms) (the alert engine evaluates rtt.<host>).
  std::function<void(host&, double rtt_ms, double now)> rtt_sample;
  // A dyn host's address changed (force false) or a manager asked for a DNS
  // update (force true): keep <name>.<dyndomain> on each connection's address.
  std::function<void(const host&, bool force)> dns_update;
  // Every accepted message, after the registry applied it, for the journal:
  // the decoded message, its JSON text as received (envelope removed,
  // inflated), its source and the source address as text.
  std::function<void(const protocol::message&, std::string_view json_text, const source&,
                     std::string_view address, double now)>
      journal_message;
};

namespace detail {

inline std::string format_address(const source& s) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(s.family == address_family::ipv4 ? AF_INET : AF_INET6, s.addr.data(), buf, sizeof buf);
  return buf;
}

}  // namespace detail

class host_registry {
 public:
  static constexpr std::size_t messages_kept = 30;
  static constexpr std::size_t finished_commands_kept = 20;
  static constexpr double short_down = 4.0;  // a DOWN shorter than this sends no recovery notification

  host_registry(const config& c, stats& st, double now)
      : stats_(st), started_(now), wheel_(wheel_slots), wheel_done_(slot_of(now) - 1) {
    apply_config(c, now);
  }

  // ---- configuration ------------------------------------------------------
  // Start-up and SIGHUP: hosts listed in the config appear (UNKNOWN), keys,
  // watch, dyn, roles and timing are refreshed; state and data are kept.
  void apply_config(const config& c, double now) {
    ++epoch_;  // any host's entry may change
    cfg_interval_ = c.interval;
    grace_ = c.grace;
    history_samples_ = c.history_samples;
    history_budget_ = c.history_memory;
    command_ttl_ = c.command_ttl;
    default_owner_ = c.effective_default_owner();
    any_key_ = false;
    for (auto& [name, h] : hosts_) {
      if (h->configured && !c.host(name)) {
        h->configured = false;
        h->key.clear();
        h->dyn = false;
        h->watch = true;
        h->threshold_config.clear();
      }
    }
    // A configured host that was never heard of and is no longer configured goes away.
    std::vector<std::string> gone;
    for (auto& [name, h] : hosts_)
      if (!h->configured && h->first_seen == 0 && !h->conns[0].present && !h->conns[1].present)
        gone.push_back(name);
    for (const auto& n : gone) erase_host(n);
    for (const auto& [name, hc] : c.hosts) {
      host& h = upsert(name, now);
      h.configured = true;
      h.key = hc.key;
      h.watch = hc.watch;
      h.dyn = hc.dyn;
      h.threshold_config = hc.threshold_config;
      if (h.interval <= 0) h.interval = cfg_interval_;
      any_key_ = any_key_ || !hc.key.empty();
    }
    for (auto& [name, h] : hosts_) {
      refresh_roles(*h, c);
      schedule(*h, now);  // interval and grace may have changed
    }
    config_ = &c;
  }

  // The HMAC key of `name`, or nullptr (the decoder's key lookup).
  const std::string* key_for(std::string_view name) const {
    if (!any_key_) return nullptr;
    auto it = hosts_.find(name);
    return it != hosts_.end() && !it->second->key.empty() ? &it->second->key : nullptr;
  }

  // ---- reads ----------------------------------------------------------------
  const host* find(std::string_view name) const {
    auto it = hosts_.find(name);
    return it == hosts_.end() ? nullptr : it->second.get();
  }
  host* find(std::string_view name) {
    auto it = hosts_.find(name);
    return it == hosts_.end() ? nullptr : it->second.get();
  }
  std::size_t size() const noexcept { return hosts_.size(); }
  // Every host, ordered by name (the vector is rebuilt only after hosts come or go).
  const std::vector<host*>& hosts() const {
    if (order_dirty_) {
      order_.clear();
      order_.reserve(hosts_.size());
      for (const auto& [n, h] : hosts_) order_.push_back(h.get());
      std::sort(order_.begin(), order_.end(), [](const host* a, const host* b) { return a->name < b->name; });
      order_dirty_ = false;
    }
    return order_;
  }
  template <class F>
  void for_each(F&& f) const {
    for (host* h : hosts()) f(static_cast<const host&>(*h));
  }
  const std::vector<message_entry>& messages() const noexcept { return messages_; }  // oldest first
  double started() const noexcept { return started_; }
  double grace() const noexcept { return grace_; }
  bus::event_bus& events() noexcept { return events_; }
  registry_hooks& hooks() noexcept { return hooks_; }
  stats& counters() noexcept { return stats_; }

  // ---- messages from hosts (ingest) ------------------------------------------
  heartbeat_result on_heartbeat(const protocol::heartbeat_msg& m, bool authenticated, const source& src,
                                double now) {
    host& h = upsert(m.name, now);
    connection& c = h.conn(src.family);
    bool address_changed = false;
    if (!c.present || !(c.src == src)) {
      address_changed = !c.present || c.src.addr != src.addr;
      c.src = src;
      c.address = detail::format_address(src);
    }
    // Sequence: gaps are lost heartbeats; a lower seq is a client restart.
    bool seq_restart = false;
    if (c.present && c.received > 0) {
      if (m.seq > c.seq)
        c.lost += m.seq - c.seq - 1;
      else if (m.seq < c.seq)
        seq_restart = true;
    }
    c.seq = m.seq;
    ++c.received;
    c.interval = m.interval > 0 ? m.interval : cfg_interval_;
    c.rtt = m.rtt;
    c.authenticated = authenticated;
    if (!c.present) {
      c.present = true;
      c.first_seen = now;
    }
    c.last_seen = now;
    h.last_seen = now;
    if (h.first_seen == 0) h.first_seen = now;
    h.ver = m.ver;
    h.interval = c.interval;
    if (!m.agent.empty() && h.agent != m.agent) h.agent = m.agent;
    if (m.ts) {
      double skew = *m.ts - now;
      h.clock_skew = h.clock_skew ? *h.clock_skew * 0.8 + skew * 0.2 : skew;
    }
    if (!m.owner.empty() && h.declared_owner != m.owner) {
      h.declared_owner = m.owner;
      if (config_) refresh_roles(h, *config_);
    }
    // Reboot: boot_time moved (by more than clock jitter), else a seq restart.
    bool rebooted = false;
    if (m.boot_time) {
      if (h.boot_time && std::fabs(*h.boot_time - *m.boot_time) > 5) rebooted = true;
      h.boot_time = m.boot_time;
    } else if (seq_restart) {
      rebooted = true;
    }
    if (rebooted) {
      ++h.reboots;
      h.last_reboot = now;
      add_message(now, h.name, seq_restart && !m.boot_time ? "restarted (sequence restarted)" : "rebooted",
                  "reboot");
      if (!events_.empty()) {
        json::value d =
            json::value::object({{"host", h.name},
                                 {"boot_time", h.boot_time ? json::value(*h.boot_time) : json::value()},
                                 {"seq_restart", seq_restart}});
        publish(bus::event_kind::reboot, now, h.name, std::move(d));
      }
    }

    // State machine.
    bool conn_changed = c.state != host_state::up;
    if (conn_changed) {
      c.state = host_state::up;
      c.state_since = now;
    }
    host_state before = h.state;
    if (before == host_state::stopped) {
      add_message(now, h.name, "back from planned stop", "state");
      set_host_state(h, host_state::up, now, false, "back from planned stop");
    } else {
      update_host_state(h, now);
    }
    if (conn_changed && h.state == before) publish_host(h, now, nullptr);  // a connection came up
    if (address_changed && h.dyn && hooks_.dns_update) hooks_.dns_update(h, false);
    mark_dirty(h);
    schedule(h, now + c.interval + late_slack(c.interval));
    if (m.rtt && hooks_.rtt_sample) hooks_.rtt_sample(h, *m.rtt, now);
    return {&h, h.plg_since_start ? 0 : 1};
  }

  host& on_plugin(const protocol::plugin_msg& m, const source&, double now) {
    host& h = upsert(m.name, now);
    h.last_seen = now;
    if (h.first_seen == 0) h.first_seen = now;
    h.plg_since_start = true;
    mark_dirty(h);
    auto it = h.plugins.find(m.plugin);
    if (it == h.plugins.end()) it = h.plugins.emplace(m.plugin, plugin_data{}).first;
    plugin_data& p = it->second;
    if (!m.kind.empty() && p.kind != m.kind) p.kind = m.kind;
    if (m.interval) p.interval = *m.interval;
    double ts = m.ts ? *m.ts : now;
    push_sample(p, ts, m.data_json);
    if (hooks_.plugin_sample) hooks_.plugin_sample(h, m, now);
    if (events_.wants(bus::event_kind::plugin)) {
      json::value data;
      if (auto parsed = json::parse(m.data_json)) data = std::move(*parsed);
      publish(bus::event_kind::plugin, now, h.name,
              json::value::object(
                  {{"host", h.name}, {"plugin", m.plugin}, {"data", std::move(data)}, {"timestamp", ts}}));
    }
    return h;
  }

  void on_message(const protocol::message_msg& m, const source&, double now) {
    host& h = upsert(m.name, now);
    touch(h);
    h.last_seen = now;
    if (h.first_seen == 0) h.first_seen = now;
    add_message(now, h.name, m.msg, protocol::to_string(m.event));
    if (m.event == protocol::msg_event::shutdown && h.state != host_state::stopped)
      set_host_state(h, host_state::stopped, now, h.watch, "planned stop");
  }

  // RES: closes the command (only from the host it was queued for).
  void on_result(const protocol::result_msg& m, bool, const source&, double now) {
    host* h = find(m.name);
    if (!h) return;
    touch(*h);
    h->last_seen = now;
    for (auto& c : h->commands) {
      if (c.id != m.cmd_id || !c.pending()) continue;
      c.state = command_state::done;
      c.rc = m.rc;
      c.output = m.output;
      c.done_at = now;
      add_message(now, h->name,
                  std::string(c.upgrade ? "upgrade " : "command ") + c.id + " finished with rc " +
                      std::to_string(m.rc),
                  "command");
      publish_command(*h, c, now);
      trim_commands(*h);
      return;
    }
  }

  // Pending CMD/UPD for delivery after an ACK; only ever for authenticated peers.
  // `send` returns false when the datagram could not be sent.
  template <class Send>
  void deliver_commands(host& h, bool authenticated, double now, Send&& send) {
    if (!authenticated || h.commands.empty()) return;
    touch(h);
    for (auto& c : h.commands) {
      if (!c.pending() || c.expires_at <= now) continue;
      if (!send(static_cast<const command_record&>(c))) continue;
      bool first = c.state == command_state::queued;
      c.state = command_state::sent;
      c.sent_at = now;
      ++c.sent_count;
      if (first) publish_command(h, c, now);
    }
  }

  // ---- monitor (a few times a second) ----------------------------------------
  // LATE after one interval missed (plus a little jitter), DOWN after interval
  // + grace; a configured host never heard of goes DOWN at start + interval +
  // grace; queued commands expire. Only hosts with a deadline now due are
  // looked at (a wheel of quarter-second slots, one entry per host), so a tick
  // costs next to nothing with 100,000 healthy hosts; a slow sweep through
  // every host (each one about once a minute) is the safety net.
  void tick(double now) {
    const std::int64_t target = slot_of(now);
    const std::int64_t from = std::max(wheel_done_ + 1, target - static_cast<std::int64_t>(wheel_slots) + 1);
    for (std::int64_t slot = from; slot <= target; ++slot) {
      auto& bucket = wheel_[static_cast<std::size_t>(slot) & (wheel_slots - 1)];
      due_.swap(bucket);  // check_host may schedule into this bucket again
      wheel_done_ = slot;
      for (std::size_t i = 0; i < due_.size(); ++i) {
        host* h = due_[i];
        if (!h) continue;  // dropped meanwhile
        h->due_slot = -1;
        check_host(*h, now);
      }
      due_.clear();
    }
    wheel_done_ = std::max(wheel_done_, target);
    if (order_dirty_) return;  // hosts are being added: no re-sort per tick for the sweep
    const auto& all = hosts();
    if (all.empty()) return;
    std::size_t n = std::min(all.size(), std::max<std::size_t>(64, all.size() / 240));
    for (std::size_t i = 0; i < n; ++i) {
      if (sweep_pos_ >= all.size()) sweep_pos_ = 0;
      check_host(*all[sweep_pos_++], now);
    }
  }

  // ---- changes through the API ------------------------------------------------
  result<std::string> queue_command(std::string_view name, std::string command, std::vector<std::string> args,
                                    std::string requested_by, double now) {
    host* h = find(name);
    if (!h) return make_error("not_found", "no host named " + std::string(name));
    if (!h->has_key())
      return make_error("not_authenticated",
                        "host " + h->name + " has no key: commands need hosts.<name>.key");
    if (command.empty() || !protocol::valid_host_name(command))
      return make_error("bad_command", "command must be a name from the client's allow-list");
    command_record c;
    c.id = next_command_id();
    c.command = std::move(command);
    c.args = std::move(args);
    c.requested_by = std::move(requested_by);
    c.queued_at = now;
    c.expires_at = now + command_ttl_;
    h->commands.push_back(std::move(c));
    schedule(*h, h->commands.back().expires_at);
    publish_command(*h, h->commands.back(), now);
    return h->commands.back().id;
  }

  result<std::string> queue_upgrade(std::string_view name, std::string version, std::string requested_by,
                                    double now) {
    host* h = find(name);
    if (!h) return make_error("not_found", "no host named " + std::string(name));
    if (!h->has_key())
      return make_error("not_authenticated",
                        "host " + h->name + " has no key: upgrades need hosts.<name>.key");
    command_record c;
    c.id = next_command_id();
    c.upgrade = true;
    c.version = std::move(version);
    c.requested_by = std::move(requested_by);
    c.queued_at = now;
    c.expires_at = now + command_ttl_;
    h->commands.push_back(std::move(c));
    schedule(*h, h->commands.back().expires_at);
    publish_command(*h, h->commands.back(), now);
    return h->commands.back().id;
  }

  bool drop_host(std::string_view name, double now) {
    auto it = hosts_.find(name);
    if (it == hosts_.end()) return false;
    std::string n = it->first;
    erase_host(n);
    add_message(now, n, "removed", "state");
    publish(bus::event_kind::dropped, now, n, json::value::object({{"name", n}, {"removed", true}}));
    return true;
  }

  result<void> set_access(std::string_view name, std::string owner, std::vector<std::string> managers,
                          std::vector<std::string> monitors, double now) {
    host* h = find(name);
    if (!h) return make_error("not_found", "no host named " + std::string(name));
    h->owner = std::move(owner);
    h->managers = std::move(managers);
    h->monitors = std::move(monitors);
    h->access_overridden = true;
    publish_host(*h, now, nullptr);
    return {};
  }

  result<void> request_dns(std::string_view name) {
    host* h = find(name);
    if (!h) return make_error("not_found", "no host named " + std::string(name));
    if (!h->conns[0].present && !h->conns[1].present)
      return make_error("no_address", "host " + h->name + " has sent no heartbeat yet");
    if (hooks_.dns_update) hooks_.dns_update(*h, true);
    return {};
  }

  // Hosts whose last_seen/seq/rtt moved since the last call (the store saves
  // them about once a second, so a kill -9 loses at most that much).
  template <class F>
  void drain_dirty(F&& f) {
    for (host* h : dirty_) {
      h->dirty = false;
      f(static_cast<const host&>(*h));
    }
    dirty_.clear();
  }

  // ---- restore (store snapshot at start-up) ------------------------------------
  // Returns the host, creating it; the caller fills it in. Restored hosts keep
  // their state; the monitor judges them from max(last_seen, start).
  host& restore_host(std::string_view name, double now) { return upsert(name, now); }
  void restore_message(message_entry m) { push_message(std::move(m)); }

  // Restores a host from its /api/0/hosts entry as the store saved it.
  host& restore_host_json(const json::value& j, double now) {
    host& h = upsert(j.string_or("name", ""), now);
    ++epoch_;
    auto st = j.string_or("state", "UNKNOWN");
    for (auto s :
         {host_state::unknown, host_state::up, host_state::late, host_state::down, host_state::stopped})
      if (st == to_string(s)) h.state = s;
    h.state_since = j.number_or("state_since", now);
    h.ver = static_cast<int>(j.number_or("ver", 0));
    h.agent = j.string_or("agent", "");
    h.last_seen = j.number_or("last_seen", 0);
    h.first_seen = j.number_or("first_seen", h.last_seen);
    h.interval = j.number_or("interval", cfg_interval_);
    h.down_since = j.number_or("down_since", 0);
    h.declared_owner = j.string_or("declared_owner", "");
    if (j.bool_or("access_custom", false)) {
      h.access_overridden = true;
      h.owner = j.string_or("owner", "");
      h.managers.clear();
      h.monitors.clear();
      if (const auto* m = j.find("managers"))
        for (const auto& x : m->as_array()) h.managers.push_back(x.as_string());
      if (const auto* m = j.find("monitors"))
        for (const auto& x : m->as_array()) h.monitors.push_back(x.as_string());
    } else if (config_) {
      refresh_roles(h, *config_);
    }
    if (const auto* v = j.find("clock_skew"); v && v->is_number()) h.clock_skew = v->as_number();
    if (const auto* v = j.find("boot_time"); v && v->is_number()) h.boot_time = v->as_number();
    h.reboots = static_cast<std::uint64_t>(j.number_or("reboots", 0));
    if (const auto* cs = j.find("connections")) {
      for (const auto& cj : cs->as_array()) {
        address_family f =
            cj.string_or("family", "ipv4") == "ipv6" ? address_family::ipv6 : address_family::ipv4;
        connection& c = h.conn(f);
        c.present = true;
        c.address = cj.string_or("address", "");
        c.src.family = f;
        ::inet_pton(f == address_family::ipv4 ? AF_INET : AF_INET6, c.address.c_str(), c.src.addr.data());
        c.src.port = static_cast<std::uint16_t>(cj.number_or("port", 0));
        auto cst = cj.string_or("state", "DOWN");
        c.state = cst == "UP" ? host_state::up : cst == "LATE" ? host_state::late : host_state::down;
        c.state_since = cj.number_or("since", now);
        c.last_seen = cj.number_or("last_seen", 0);
        c.first_seen = cj.number_or("first_seen", c.last_seen);
        c.interval = cj.number_or("interval", cfg_interval_);
        if (const auto* r = cj.find("rtt"); r && r->is_number()) c.rtt = r->as_number();
        c.seq = static_cast<std::uint64_t>(cj.number_or("seq", 0));
        c.received = static_cast<std::uint64_t>(cj.number_or("received", 0));
        c.lost = static_cast<std::uint64_t>(cj.number_or("lost", 0));
        c.authenticated = cj.bool_or("authenticated", false);
      }
    }
    return h;
  }

  // Restores one plugin sample (oldest first) of a restored host.
  void restore_plugin_sample(host& h, std::string_view plugin, double ts, std::string_view data_json) {
    touch(h);
    auto it = h.plugins.find(plugin);
    if (it == h.plugins.end()) it = h.plugins.emplace(std::string(plugin), plugin_data{}).first;
    push_sample(it->second, ts, data_json);
  }

  // Bytes of plugin data held in memory (latest samples and history rings).
  std::size_t history_bytes() const noexcept { return history_bytes_; }

  // Restores a command record as command_json() wrote it (its host must exist).
  void restore_command_json(const json::value& j) {
    ++epoch_;
    host* h = find(j.string_or("host", ""));
    if (!h) return;
    command_record c;
    c.id = j.string_or("id", "");
    if (c.id.empty()) return;
    note_command_id(c.id);
    for (auto& old : h->commands)
      if (old.id == c.id) return;
    c.upgrade = j.string_or("type", "command") == "upgrade";
    c.command = j.string_or("command", "");
    if (const auto* a = j.find("args"))
      for (const auto& x : a->as_array()) c.args.push_back(x.as_string());
    c.version = j.string_or("version", "");
    c.requested_by = j.string_or("requested_by", "");
    c.queued_at = j.number_or("queued_at", 0);
    c.expires_at = j.number_or("expires_at", 0);
    c.sent_at = j.number_or("sent_at", 0);
    c.sent_count = static_cast<std::uint32_t>(j.number_or("sent_count", 0));
    auto st = j.string_or("state", "queued");
    for (auto s : {command_state::queued, command_state::sent, command_state::done, command_state::expired})
      if (st == to_string(s)) c.state = s;
    if (const auto* rc = j.find("rc"); rc && rc->is_number()) c.rc = static_cast<int>(rc->as_number());
    c.output = j.string_or("output", "");
    c.done_at = j.number_or("done_at", 0);
    h->commands.push_back(std::move(c));
  }

  void restore_message_json(const json::value& j) {
    push_message({j.number_or("time", 0), j.string_or("host", ""), j.string_or("msg", ""),
                  j.string_or("event", "message")});
  }
  // Keeps command ids unique across restarts ("c-<n>").
  void note_command_id(std::string_view id) {
    if (id.size() > 2 && id[0] == 'c' && id[1] == '-') {
      std::uint64_t n = 0;
      for (char ch : id.substr(2)) {
        if (ch < '0' || ch > '9') return;
        n = n * 10 + static_cast<std::uint64_t>(ch - '0');
      }
      next_command_ = std::max(next_command_, n);
    }
  }

  // ---- JSON -----------------------------------------------------------------
  // One /api/0/hosts entry, written straight into `out` (no DOM: 100,000 hosts).
  // The entry depends only on the host (not on `now`), so the list reuses it.
  void write_host_json(std::string& out, const host& h, double /*now*/) const {
    json::object_writer o(out);
    o.string("name", h.name)
        .string("state", to_string(h.state))
        .number("state_since", h.state_since)
        .boolean("dyn", h.dyn)
        .number("ver", h.ver)
        .string("agent", h.agent)
        .number("last_seen", h.last_seen > 0 ? std::optional<double>(h.last_seen) : std::nullopt)
        .number("first_seen", h.first_seen)
        .number("down_since", h.down_since)
        .number("interval", h.interval)
        .boolean("watch", h.watch)
        .boolean("configured", h.configured)
        .boolean("authenticated", h.has_key())
        .string("owner", h.owner)
        .boolean("access_custom", h.access_overridden)
        .string("declared_owner", h.declared_owner)
        .strings("managers", h.managers)
        .strings("monitors", h.monitors)
        // Microseconds: the smoothed value carries noise digits below that.
        .number("clock_skew",
                h.clock_skew ? std::optional<double>(std::round(*h.clock_skew * 1e6) / 1e6) : std::nullopt)
        .number("loss", std::round(h.loss_rate() * 1e6) / 1e6)
        .number("boot_time", h.boot_time)
        .number("reboots", static_cast<double>(h.reboots))
        .number("request_update", h.plg_since_start ? 0 : 1)
        .strings("plugins", h.plugins, [](const auto& p) -> std::string_view { return p.first; })
        .number("commands_pending", static_cast<double>(h.pending_commands()))
        .raw("connections", [&](std::string& a) {
          a.push_back('[');
          bool first = true;
          for (const auto& c : h.conns) {
            if (!c.present) continue;
            if (!first) a.push_back(',');
            first = false;
            json::object_writer co(a);
            co.string("family", to_string(c.family))
                .string("address", c.address)
                .number("port", c.src.port)
                .string("state", to_string(c.state))
                .number("since", c.state_since)
                .number("last_seen", c.last_seen)
                .number("first_seen", c.first_seen)
                .number("interval", c.interval)
                .number("rtt", c.rtt)
                .number("seq", static_cast<double>(c.seq))
                .number("received", static_cast<double>(c.received))
                .number("lost", static_cast<double>(c.lost))
                .boolean("authenticated", c.authenticated);
          }
          a.push_back(']');
        });
  }

  // The host's /api/0/hosts entry, rendered again only after it changed.
  const std::string& entry_json(const host& h) const {
    if (h.json_version != h.version || h.json_epoch != epoch_) {
      h.json.clear();
      write_host_json(h.json, h, 0);
      h.json_version = h.version;
      h.json_epoch = epoch_;
    }
    return h.json;
  }

  json::value host_json(const host& h, double now) const {
    std::string s;
    write_host_json(s, h, now);
    auto v = json::parse(s);
    return v ? std::move(*v) : json::value::object();
  }

  // GET /api/0/hosts: every host (filtered by `visible` when given), by name.
  template <class Visible>
  void write_hosts_json(std::string& out, double /*now*/, Visible&& visible) const {
    out.push_back('[');
    bool first = true;
    for (const host* h : hosts()) {
      if (!visible(*h)) continue;
      if (!first) out.push_back(',');
      first = false;
      out += entry_json(*h);
    }
    out.push_back(']');
  }
  void write_hosts_json(std::string& out, double now) const {
    write_hosts_json(out, now, [](const host&) { return true; });
  }

  static json::value message_json(const message_entry& m) {
    return json::value::object({{"time", m.time}, {"host", m.host}, {"msg", m.msg}, {"event", m.event}});
  }
  // GET /api/0/messages: the last 30, oldest first.
  json::value messages_json() const {
    json::value a = json::value::array();
    for (const auto& m : messages_) a.push_back(message_json(m));
    return a;
  }

  static json::value command_json(const host& h, const command_record& c) {
    json::value args = json::value::array();
    for (const auto& a : c.args) args.push_back(a);
    return json::value::object({{"id", c.id},
                                {"host", h.name},
                                {"type", c.upgrade ? "upgrade" : "command"},
                                {"command", c.command},
                                {"args", std::move(args)},
                                {"version", c.version},
                                {"requested_by", c.requested_by},
                                {"state", to_string(c.state)},
                                {"queued_at", c.queued_at},
                                {"expires_at", c.expires_at},
                                {"sent_at", c.sent_at},
                                {"sent_count", static_cast<double>(c.sent_count)},
                                {"rc", c.rc ? json::value(*c.rc) : json::value()},
                                {"output", c.output},
                                {"done_at", c.done_at}});
  }
  json::value commands_json(const host& h) const {
    json::value a = json::value::array();
    for (const auto& c : h.commands) a.push_back(command_json(h, c));
    return a;
  }

  // A server-side line in the messages ring (and a message event).
  void add_message(double now, const std::string& host_name, std::string msg, std::string event) {
    message_entry m{now, host_name, std::move(msg), std::move(event)};
    if (events_.wants(bus::event_kind::message)) publish(bus::event_kind::message, now, host_name, message_json(m));
    push_message(std::move(m));
  }

 private:
  stats& stats_;
  double started_;
  const config* config_ = nullptr;
  double cfg_interval_ = 30;
  double grace_ = 15;
  std::size_t history_samples_ = 100;
  std::size_t history_budget_ = std::size_t{256} << 20;
  std::size_t history_bytes_ = 0;
  double command_ttl_ = 3600;
  std::string default_owner_;
  bool any_key_ = false;
  std::uint64_t next_command_ = 0;
  string_map<std::unique_ptr<host>> hosts_;
  mutable std::vector<host*> order_;
  mutable bool order_dirty_ = true;
  std::vector<message_entry> messages_;
  std::vector<std::vector<host*>> wheel_;  // slot % wheel_slots -> hosts due then
  std::int64_t wheel_done_;                // the last slot tick() went through
  std::vector<host*> due_;                 // the bucket being visited
  std::size_t sweep_pos_ = 0;
  std::uint64_t epoch_ = 1;   // bumped by changes that may touch every host's /api/0/hosts entry
  std::vector<host*> dirty_;  // hosts changed by messages since the last drain_dirty()
  bus::event_bus events_;
  registry_hooks hooks_;

  static double late_slack(double interval) { return std::max(0.5, interval * 0.1); }

  // ---- the due wheel ----------------------------------------------------------
  static constexpr double slot_width = 0.25;         // seconds per slot (the monitor's period)
  static constexpr std::size_t wheel_slots = 16384;  // 68 minutes ahead; later deadlines are re-checked
  static std::int64_t slot_of(double t) { return static_cast<std::int64_t>(std::floor(t / slot_width)); }

  // Asks tick() to look at `h` once `when` has come. One entry per host: a later
  // deadline than the pending one waits for that visit (which reschedules), an
  // earlier one moves the entry.
  void schedule(host& h, double when) {
    std::int64_t slot =
        std::clamp(slot_of(when), wheel_done_ + 1, wheel_done_ + static_cast<std::int64_t>(wheel_slots) - 1);
    if (h.due_slot > wheel_done_) {
      if (h.due_slot <= slot) return;
      unschedule(h);
    }
    h.due_slot = slot;
    wheel_[static_cast<std::size_t>(slot) & (wheel_slots - 1)].push_back(&h);
  }
  void unschedule(host& h) {
    if (h.due_slot > wheel_done_)
      std::erase(wheel_[static_cast<std::size_t>(h.due_slot) & (wheel_slots - 1)], &h);
    h.due_slot = -1;
  }

  // Lets time act on one host, then schedules its next deadline.
  void check_host(host& h, double now) {
    double next = std::numeric_limits<double>::infinity();
    bool any_present = false;
    for (auto& c : h.conns) {
      if (!c.present) continue;
      any_present = true;
      double since = std::max(c.last_seen, started_);  // after a restart, hosts get a full period
      double elapsed = now - since;
      host_state want = c.state;
      if (elapsed > c.interval + grace_)
        want = host_state::down;
      else if (elapsed > c.interval + late_slack(c.interval))
        want = host_state::late;
      else
        want = host_state::up;
      // Only an HTB brings a connection (back) up; the monitor only moves it down.
      if (want != c.state && want != host_state::up &&
          !(c.state == host_state::down && want == host_state::late)) {
        c.state = want;
        c.state_since = now;
        host_state before = h.state;
        update_host_state(h, now);
        if (h.state == before) publish_host(h, now, nullptr);
      }
      if (c.state == host_state::up) next = std::min(next, since + c.interval + late_slack(c.interval));
      if (c.state != host_state::down) next = std::min(next, since + c.interval + grace_);
    }
    if (!any_present && h.state == host_state::unknown && h.configured) {
      double deadline = started_ + (h.interval > 0 ? h.interval : cfg_interval_) + grace_;
      if (now > deadline)
        set_host_state(h, host_state::down, now, h.watch, "no heartbeat since the server started");
      else
        next = std::min(next, deadline);
    }
    for (auto& c : h.commands) {
      if (!c.pending()) continue;
      if (c.expires_at <= now) {
        c.state = command_state::expired;
        c.done_at = now;
        add_message(now, h.name, std::string(c.upgrade ? "upgrade " : "command ") + c.id + " expired",
                    "command");
        publish_command(h, c, now);
      } else {
        next = std::min(next, c.expires_at);
      }
    }
    if (!h.commands.empty()) trim_commands(h);
    if (next != std::numeric_limits<double>::infinity()) schedule(h, next);
  }

  host& upsert(std::string_view name, double now) {
    auto it = hosts_.find(name);
    if (it != hosts_.end()) return *it->second;
    auto h = std::make_unique<host>();
    h->name = std::string(name);
    h->state_since = now;
    h->interval = cfg_interval_;
    host& ref = *h;
    hosts_.emplace(ref.name, std::move(h));
    order_dirty_ = true;
    if (config_) refresh_roles(ref, *config_);
    schedule(ref, now);
    return ref;
  }

  // Stores a sample; past the history_memory budget rings stop growing (the
  // store serves older history), so memory stays bounded with many hosts.
  void push_sample(plugin_data& p, double ts, std::string_view data) {
    std::size_t cap = history_samples_;
    if (history_bytes_ >= history_budget_) cap = std::max<std::size_t>(1, std::min(cap, p.size()));
    std::size_t before = p.bytes;
    p.push(ts, data, cap);
    history_bytes_ = history_bytes_ + p.bytes - before;
  }

  void erase_host(const std::string& name) {
    auto it = hosts_.find(name);
    if (it == hosts_.end()) return;
    for (const auto& [n, p] : it->second->plugins) history_bytes_ -= std::min(history_bytes_, p.bytes);
    if (it->second->dirty) std::erase(dirty_, it->second.get());
    unschedule(*it->second);
    std::replace(due_.begin(), due_.end(), it->second.get(), static_cast<host*>(nullptr));  // being visited
    hosts_.erase(it);
    order_dirty_ = true;
    ++epoch_;
  }

  void touch(host& h) noexcept { ++h.version; }
  void mark_dirty(host& h) {
    touch(h);
    if (h.dirty) return;
    h.dirty = true;
    dirty_.push_back(&h);
  }

  void refresh_roles(host& h, const config& c) {
    if (h.access_overridden) return;
    touch(h);
    const host_config* hc = c.host(h.name);
    h.owner = hc && !hc->owner.empty()    ? hc->owner
              : !h.declared_owner.empty() ? h.declared_owner
                                          : default_owner_;
    h.managers = hc ? hc->managers : std::vector<std::string>{};
    h.monitors = hc ? hc->monitors : std::vector<std::string>{};
  }

  std::string next_command_id() { return "c-" + std::to_string(++next_command_); }

  void push_message(message_entry m) {
    if (messages_.size() >= messages_kept) messages_.erase(messages_.begin());
    messages_.push_back(std::move(m));
  }

  void trim_commands(host& h) {
    touch(h);
    std::size_t finished = 0;
    for (const auto& c : h.commands) finished += !c.pending();
    if (finished <= finished_commands_kept) return;
    std::size_t drop = finished - finished_commands_kept;
    auto it = std::remove_if(h.commands.begin(), h.commands.end(), [&](const command_record& c) {
      if (drop > 0 && !c.pending()) {
        --drop;
        return true;
      }
      return false;
    });
    h.commands.erase(it, h.commands.end());
  }

  // The host's state from its connections (unless STOPPED).
  void update_host_state(host& h, double now) {
    if (h.state == host_state::stopped) return;
    bool any = false, up = false, late = false;
    for (const auto& c : h.conns) {
      if (!c.present) continue;
      any = true;
      up = up || c.state == host_state::up;
      late = late || c.state == host_state::late;
    }
    if (!any) return;
    host_state want = up ? host_state::up : late ? host_state::late : host_state::down;
    if (want == h.state) return;
    host_state before = h.state;
    bool notify = false;
    std::string text;
    if (want == host_state::down) {
      notify = h.watch;
      text = "DOWN: " + h.name + " (no heartbeat for " +
             std::to_string(static_cast<long>(h.interval + grace_)) + " s)";
    } else if (want == host_state::up && before == host_state::down) {
      double lasted = now - h.down_since;
      notify = h.watch && lasted >= short_down;
      text = "UP: " + h.name + " (was down for " + std::to_string(static_cast<long>(lasted)) + " s)";
    } else if (want == host_state::up && before == host_state::unknown) {
      text = "UP: " + h.name + " (first heartbeat)";
    } else if (want == host_state::late) {
      text = "LATE: " + h.name + " (heartbeat overdue)";
    } else {
      text = std::string(to_string(want)) + ": " + h.name;
    }
    set_host_state(h, want, now, notify, text);
  }

  void set_host_state(host& h, host_state to, double now, bool notify, std::string text) {
    host_state from = h.state;
    if (from == to) return;
    touch(h);
    h.state = to;
    h.state_since = now;
    if (to == host_state::down) h.down_since = now;
    if (to == host_state::down || (to == host_state::up && from == host_state::down) ||
        (to == host_state::up && from == host_state::unknown) || to == host_state::stopped)
      add_message(now, h.name, text, "state");
    json::value t = json::value::object(
        {{"from", to_string(from)}, {"to", to_string(to)}, {"notify", notify}, {"text", std::move(text)}});
    if (to == host_state::up && from == host_state::down) t.set("down_for", now - h.down_since);
    publish_host(h, now, &t);
  }

  // bus::event_kind::host: the /api/0/hosts entry, plus "transition" when the host's state moved.
  void publish_host(host& h, double now, json::value* transition) {
    touch(h);  // every caller changed something the entry shows
    if (!events_.wants(bus::event_kind::host)) return;
    json::value d = host_json(h, now);
    if (transition) d.set("transition", std::move(*transition));
    publish(bus::event_kind::host, now, h.name, std::move(d));
  }

  void publish_command(host& h, const command_record& c, double now) {
    touch(h);
    if (events_.empty()) return;
    publish(bus::event_kind::command, now, h.name, command_json(h, c));
  }

  void publish(bus::event_kind k, double now, const std::string& host_name, json::value data) {
    ++stats_.events_published;
    bus::event e{k, now, host_name, std::move(data)};
    events_.publish(e);
  }
};

}  // namespace heartbeat::server
