// The registry: the single owner of host state in hbd. Applies accepted
// messages (HTB, PLG, MSG, RES), runs the state machine (UNKNOWN, UP, LATE,
// DOWN, STOPPED per connection and host), keeps the command queues and the
// messages ring, and publishes events. Lives on the io thread: ingest, the
// monitor, the alert engine and the API call it there; nothing here locks.
// The time-driven side of the state machine is in detail/registry_states.hpp,
// the command queues in detail/registry_commands.hpp.
#pragma once

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

#include "heartbeat/bus/events.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/core/string_map.hpp"
#include "heartbeat/protocol/messages.hpp"
#include "heartbeat/protocol/reject.hpp"
#include "heartbeat/server/admission.hpp"
#include "heartbeat/server/commands.hpp"
#include "heartbeat/server/config.hpp"
#include "heartbeat/server/due_wheel.hpp"
#include "heartbeat/server/host.hpp"
#include "heartbeat/server/host_json.hpp"
#include "heartbeat/server/host_order.hpp"
#include "heartbeat/server/liveness_clock.hpp"
#include "heartbeat/server/messages.hpp"
#include "heartbeat/server/stats.hpp"

namespace heartbeat::server {

// What ingest needs to answer an HTB. `h` is null when admission refused the datagram
// (`refused` says why; nothing changed).
struct heartbeat_result {
  host* h = nullptr;
  int request_update = 0;
  protocol::reject refused = protocol::reject::none;
};

// What a PLG or MSG did: the host it applied to, or null and why it was refused.
struct apply_result {
  host* h = nullptr;
  protocol::reject refused = protocol::reject::none;
};

// Parts wired by app.hpp. Each is optional and called on the io thread.
struct registry_hooks {
  // A PLG was stored (the alert engine evaluates msg.leaves here).
  std::function<void(host&, const protocol::plugin_msg&, clock::instant now)> plugin_sample;
  // An HTB carried rtt (ms) (the alert engine evaluates rtt.<host>).
  std::function<void(host&, double rtt_ms, clock::instant now)> rtt_sample;
  // A dyn host's address changed (force false) or a manager asked for a DNS
  // update (force true): keep <name>.<dyndomain> on each connection's address.
  std::function<void(const host&, bool force)> dns_update;
  // Every accepted message, after the registry applied it, for the journal:
  // the decoded message, its JSON text as received (envelope removed,
  // inflated), its source and the source address as text.
  std::function<void(const protocol::message&, std::string_view json_text, const source&,
                     std::string_view address, double now)>
      journal_message;
  // Whether this node sends queued CMD and UPD (with several nodes only the leader does).
  std::function<bool()> dispatch_commands;
};

class host_registry {
 public:
  static constexpr std::size_t messages_kept = 30;
  static constexpr std::size_t finished_commands_kept = 20;
  static constexpr double short_down = 4.0;  // a DOWN shorter than this sends no recovery notification

  // Time comes in as clock::instant: wall time stamps what is shown and stored, every deadline
  // (LATE, DOWN, command expiry) runs on the monotonic face, so a step of the system clock moves
  // no host.
  host_registry(const config& c, stats& st, clock::instant now)
      : stats_(st), started_(now.wall), started_mono_(now.mono), wheel_(now.mono) {
    apply_config(c, now);
  }

  // Start-up and SIGHUP: hosts listed in the config appear (UNKNOWN), keys,
  // watch, dyn, roles and timing are refreshed; state and data are kept.
  void apply_config(const config& c, clock::instant now) {
    ++epoch_;  // any host's entry may change
    cfg_interval_ = c.interval;
    grace_ = c.grace;
    history_samples_ = c.history_samples;
    history_budget_ = c.history_memory;
    command_ttl_ = c.command_ttl;
    default_owner_ = c.effective_default_owner();
    gate_.configure(c.admission, now.mono);
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
        gone.emplace_back(name);
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
      schedule(*h, now.mono);  // interval and grace may have changed
    }
    config_ = &c;
  }

  // The HMAC key of `name`, or nullptr (the decoder's key lookup).
  const std::string* key_for(std::string_view name) const {
    if (!any_key_) return nullptr;
    auto it = hosts_.find(name);
    return it != hosts_.end() && !it->second->key.empty() ? &it->second->key.str() : nullptr;
  }

  const host* find(std::string_view name) const {
    auto it = hosts_.find(name);
    return it == hosts_.end() ? nullptr : it->second.get();
  }
  host* find(std::string_view name) {
    auto it = hosts_.find(name);
    return it == hosts_.end() ? nullptr : it->second.get();
  }
  std::size_t size() const noexcept { return hosts_.size(); }
  // Every host, ordered by name (host_order.hpp keeps it as hosts come and go).
  const std::vector<host*>& hosts() const { return order_.get(hosts_); }
  // The indexes into hosts() of the hosts whose names contain `lower` (lower case), ascending.
  void find_names(std::string_view lower, std::vector<std::uint32_t>& out) const {
    order_.find_names(hosts_, lower, out);
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

  // Messages from hosts, accepted by ingest.
  heartbeat_result on_heartbeat(const protocol::heartbeat_msg& m, bool authenticated, const source& src,
                                clock::instant t) {
    const double now = t.wall;
    heartbeat_result res;
    host* hp = admit(m.name, t, res.refused);
    if (!hp) return res;
    host& h = *hp;
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
    c.heard = t.mono;
    h.last_seen = now;
    if (h.first_seen == 0) h.first_seen = now;
    h.ver = m.ver;
    h.interval = c.interval;
    if (!m.agent.empty() && h.agent != m.agent) h.agent = m.agent;
    if (m.ts) {
      double skew = *m.ts - now;  // both wall clocks: that is what skew means
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
      set_host_state(h, host_state::up, t, false, "back from planned stop");
    } else {
      update_host_state(h, t);
    }
    if (conn_changed && h.state == before) publish_host(h, t, nullptr);  // a connection came up
    // DNS follows only authenticated heartbeats: anyone can spoof an unauthenticated one.
    if (address_changed && h.dyn && authenticated && hooks_.dns_update) hooks_.dns_update(h, false);
    mark_dirty(h);
    schedule(h, t.mono + c.interval + late_slack(c.interval));
    if (m.rtt && hooks_.rtt_sample) hooks_.rtt_sample(h, *m.rtt, t);
    res.h = &h;
    res.request_update = h.plg_since_start ? 0 : 1;
    return res;
  }

  // PLG: the sample joins the plugin's history (a new plugin name only within
  // max_plugins_per_host). MSG: a line in the messages ring; `shutdown` stops the host.
  apply_result on_plugin(const protocol::plugin_msg& m, const source&, clock::instant t);
  apply_result on_message(const protocol::message_msg& m, const source&, clock::instant t);

  // RES: closes the command (only from the host it was queued for).
  void on_result(const protocol::result_msg& m, bool, const source&, clock::instant now);

  // Pending CMD/UPD for delivery after an ACK; only ever for authenticated peers.
  // `send` returns false when the datagram could not be sent.
  template <class Send>
  void deliver_commands(host& h, bool authenticated, clock::instant now, Send&& send);

  // The monitor, a few times a second: LATE after one interval missed (plus a
  // little jitter), DOWN after interval + grace; a configured host never heard
  // of goes DOWN at start + interval + grace; queued commands expire. Only
  // hosts with a deadline now due are looked at (due_wheel.hpp), so a tick
  // costs next to nothing with 100,000 healthy hosts; a slow sweep through
  // every host (each one about once a minute) is the safety net. Heartbeat
  // deadlines are judged on the liveness clock (liveness_clock.hpp), which waits
  // for datagrams still unread in the ingest sockets.
  void tick(clock::instant now);

  // The time heartbeats are judged against; ingest registers its sockets here.
  liveness_clock& liveness() noexcept { return liveness_; }
  const liveness_clock& liveness() const noexcept { return liveness_; }

  // Changes through the API.
  result<std::string> queue_command(std::string_view name, std::string command, std::vector<std::string> args,
                                    std::string requested_by, clock::instant now);
  result<std::string> queue_upgrade(std::string_view name, std::string version, std::string requested_by,
                                    clock::instant now);

  bool drop_host(std::string_view name, double now) {
    auto it = hosts_.find(name);
    if (it == hosts_.end()) return false;
    std::string n(it->first);
    erase_host(n);
    add_message(now, n, "removed", "state");
    publish(bus::event_kind::dropped, now, n, json::value::object({{"name", n}, {"removed", true}}));
    return true;
  }

  result<void> set_access(std::string_view name, std::string owner, std::vector<std::string> managers,
                          std::vector<std::string> monitors, clock::instant now) {
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
  // them 4 times a second, so a kill -9 loses at most that much).
  std::size_t dirty_count() const noexcept { return dirty_.size(); }
  // `f` returns false when it cannot take more now: that host and the rest stay dirty.
  template <class F>
  void drain_dirty(F&& f) {
    std::size_t n = 0;
    for (; n < dirty_.size(); ++n) {
      if (!f(static_cast<const host&>(*dirty_[n]))) break;
      dirty_[n]->dirty = false;
    }
    dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<std::ptrdiff_t>(n));
  }

  // Restore from the store's snapshot at start-up: restore_host returns the
  // host, creating it, for the caller to fill in. Restored hosts keep their
  // state; the monitor judges them from max(last_seen, start).
  host& restore_host(std::string_view name, clock::instant now) { return upsert(name, now); }
  void restore_message(message_entry m) { push_message(std::move(m)); }

  // Restores a host from its /api/0/hosts entry as the store saved it.
  // The stored wall times are mapped once onto the monotonic clock.
  host& restore_host_json(const json::value& j, clock::instant now) {
    host& h = upsert(j.string_or("name", ""), now);
    ++epoch_;
    if (!read_host_entry(j, h, now.wall, cfg_interval_) && config_) refresh_roles(h, *config_);
    for (auto& c : h.conns)
      if (c.present) c.heard = now.mono_of(c.last_seen);
    h.down_mono = now.mono_of(h.down_since);
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
  void restore_command_json(const json::value& j, clock::instant now = clock::now()) {
    ++epoch_;
    host* h = find(j.string_or("host", ""));
    if (!h) return;
    command_record c = command_from_json(j);
    if (c.id.empty()) return;
    c.expires_mono = now.mono_of(c.expires_at);
    note_command_id(c.id);
    for (auto& old : h->commands)
      if (old.id == c.id) return;
    h->commands.push_back(std::move(c));
  }

  void restore_message_json(const json::value& j) { push_message(message_from_json(j)); }
  // Keeps command ids unique across restarts ("c-<n>").
  void note_command_id(std::string_view id) { command_ids_.note(id); }
  // Several hbd nodes: this node's ids are "c-<n>-<node>".
  void set_command_node(std::string_view node) { command_ids_.set_node(node); }

  // One /api/0/hosts entry (host_json.hpp), written straight into `out`.
  void write_host_json(std::string& out, const host& h, double /*now*/) const { write_host_entry(out, h); }

  // The host's /api/0/hosts entry, rendered again only after it changed.
  const std::string& entry_json(const host& h) const {
    if (!h.entry) h.entry = std::make_unique<host::cached_entry>();
    host::cached_entry& c = *h.entry;
    if (c.version != h.version || c.epoch != epoch_) {
      static thread_local std::string scratch;
      scratch.clear();
      write_host_json(scratch, h, 0);
      assign_exact(c.text, scratch);
      c.version = h.version;
      c.epoch = epoch_;
    }
    return c.text;
  }

  json::value host_json(const host& h, double /*now*/) const { return host_entry_value(h); }

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

  static json::value message_json(const message_entry& m) { return message_to_json(m); }
  // GET /api/0/messages: the last 30, oldest first.
  json::value messages_json() const {
    json::value a = json::value::array();
    for (const auto& m : messages_) a.push_back(message_json(m));
    return a;
  }

  static json::value command_json(const host& h, const command_record& c) {
    return command_to_json(h.name, c);
  }
  json::value commands_json(const host& h) const {
    json::value a = json::value::array();
    for (const auto& c : h.commands) a.push_back(command_json(h, c));
    return a;
  }

  // A server-side line in the messages ring (and a message event).
  void add_message(double now, const std::string& host_name, std::string msg, std::string event) {
    message_entry m{now, host_name, std::move(msg), std::move(event)};
    if (events_.wants(bus::event_kind::message))
      publish(bus::event_kind::message, now, host_name, message_json(m));
    push_message(std::move(m));
  }

 private:
  stats& stats_;
  double started_;       // wall time
  double started_mono_;  // the same moment on the monotonic clock
  const config* config_ = nullptr;
  double cfg_interval_ = 30;
  double grace_ = 15;
  std::size_t history_samples_ = 100;
  std::size_t history_budget_ = std::size_t{256} << 20;
  std::size_t history_bytes_ = 0;
  double command_ttl_ = 3600;
  std::string default_owner_;
  bool any_key_ = false;
  command_ids command_ids_;
  // Keyed by a view of the host's own name (its record never moves): the name is held once.
  std::unordered_map<std::string_view, std::unique_ptr<host>, string_hash, std::equal_to<>> hosts_;
  mutable host_order order_;
  std::vector<message_entry> messages_;
  due_wheel wheel_;  // when tick() looks at each host next (on the liveness clock)
  liveness_clock liveness_;
  std::size_t sweep_pos_ = 0;
  std::uint64_t epoch_ = 1;   // bumped by changes that may touch every host's /api/0/hosts entry
  std::vector<host*> dirty_;  // hosts changed by messages since the last drain_dirty()
  bus::event_bus events_;
  registry_hooks hooks_;
  admission_gate gate_;

  static double late_slack(double interval) { return std::max(0.5, interval * 0.1); }

  // `when` is monotonic time (the wheel runs on the monotonic clock).
  void schedule(host& h, double when) { wheel_.schedule(h, when); }

  // Lets time act on one host, then schedules its next deadline: heartbeats are
  // judged at monotonic `live` (the liveness clock), commands at `now`.
  void check_host(host& h, clock::instant now, double live);

  // The host a datagram names, or null when admission refuses it (`why`; logged at most once a
  // minute). A known host costs one branch; only a new name asks the gate.
  host* admit(std::string_view name, clock::instant now, protocol::reject& why) {
    auto it = hosts_.find(name);
    if (it != hosts_.end()) {
      host& h = *it->second;
      if (h.configured || gate_.config().accept_hosts == accept_mode::any) return &h;
      why = protocol::reject::not_configured;  // learned earlier, no longer accepted
    } else {
      why = gate_.admit_new_host(hosts_.size(), now.mono);
      if (why == protocol::reject::none) return &upsert(name, now);
    }
    gate_.note(why, name, {}, now.mono);
    return nullptr;
  }

  host& upsert(std::string_view name, clock::instant now) {
    auto it = hosts_.find(name);
    if (it != hosts_.end()) return *it->second;
    auto h = std::make_unique<host>();
    h->name = std::string(name);
    h->state_since = now.wall;
    h->interval = cfg_interval_;
    host& ref = *h;
    hosts_.emplace(ref.name, std::move(h));
    order_.added(&ref);
    if (config_) refresh_roles(ref, *config_);
    schedule(ref, now.mono);
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
    wheel_.forget(*it->second);
    order_.removed(it->second.get());
    hosts_.erase(it);
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
              : !h.declared_owner.empty() ? h.declared_owner.str()
                                          : default_owner_;
    h.managers = hc ? hc->managers : std::vector<std::string>{};
    h.monitors = hc ? hc->monitors : std::vector<std::string>{};
  }

  void push_message(message_entry m) {
    if (messages_.size() >= messages_kept) messages_.erase(messages_.begin());
    messages_.push_back(std::move(m));
  }

  void trim_commands(host& h) {
    touch(h);
    if (!h.commands.empty()) trim_finished(h.commands.edit(), finished_commands_kept);
  }

  // The host's state from its connections (unless STOPPED).
  void update_host_state(host& h, clock::instant now);
  void set_host_state(host& h, host_state to, clock::instant now, bool notify, std::string text);

  // bus::event_kind::host: the /api/0/hosts entry, plus "transition" when the host's state moved.
  void publish_host(host& h, clock::instant now, json::value* transition) {
    touch(h);  // every caller changed something the entry shows
    if (!events_.wants(bus::event_kind::host)) return;
    json::value d = host_json(h, now.wall);
    if (transition) d.set("transition", std::move(*transition));
    publish(bus::event_kind::host, now.wall, h.name, std::move(d), now.mono);
  }

  // Queues `c` (kind and payload set) on `h` under a new id with its expiry; returns the id.
  std::string enqueue_command(host& h, command_record c, clock::instant now);
  void publish_command(host& h, const command_record& c, double now) {
    touch(h);
    if (events_.empty()) return;
    publish(bus::event_kind::command, now, h.name, command_json(h, c));
  }

  void publish(bus::event_kind k, double now, const std::string& host_name, json::value data,
               double mono = 0) {
    ++stats_.events_published;
    bus::event e{k, now, host_name, std::move(data), mono};
    events_.publish(e);
  }
};

}  // namespace heartbeat::server

#include "heartbeat/server/detail/registry_commands.hpp"
#include "heartbeat/server/detail/registry_samples.hpp"
#include "heartbeat/server/detail/registry_states.hpp"
