// hbd's persistence, wired: the store (restores what the last run knew, then
// writes batches on its own thread), the journal (JSONL on its own thread) and the
// DNS worker (nsupdate), each fed from the io thread through the event bus and the
// registry's hooks, with their queue gauges in /metrics. Started first and stopped
// last by hbd::app; io thread.
#pragma once

#include <chrono>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/hbd/core.hpp"
#include "heartbeat/server/backup.hpp"
#include "heartbeat/server/cluster_config.hpp"
#include "heartbeat/server/dns.hpp"
#include "heartbeat/server/journal.hpp"
#include "heartbeat/server/store.hpp"
#include "heartbeat/server/store_pg.hpp"

namespace heartbeat::hbd {

class persistence {
 public:
  explicit persistence(core& c) : c_(c) {}

  // Opens the store and restores hosts, plugin data, commands and messages into the
  // registry; alert states and API users wait in the snapshot for their parts. Then
  // starts the writers and subscribes them to the event bus.
  result<void> start() {
    const config& cfg = c_.cfg;
    if (!server::cluster_settings_of(cfg.root).postgres()) {
      // Held while hbd runs, so that `hbd restore` refuses to replace the store under it.
      auto lock = server::store_lock::acquire(cfg.state_db);
      if (!lock) return make_error("store", "state_db " + cfg.state_db + ": " + lock.err().message);
      lock_ = std::move(*lock);
    }
    store_ = make_store(cfg, store_name_);
    auto snap = store_->load();
    if (!snap) return make_error("store", store_name_ + ": " + snap.err().message);
    restore(*snap, clock::now());
    snap = server::store_snapshot{};
#ifdef __GLIBC__
    malloc_trim(0);  // the snapshot's freed pages back to the system, not held as RSS
#endif
    if (auto r = store_->start(c_.poster()); !r)
      return make_error("store", store_name_ + ": " + r.err().message);
    // PLG data is written from the raw text (alerting's plugin_sample hook), so the store reads
    // no plugin events.
    c_.reg.events().subscribe(store_->sink(false),
                              bus::all_event_kinds & ~bus::event_bit(bus::event_kind::plugin));

    journal_ = std::make_unique<server::journal>(journal_opts(cfg));
    if (auto r = journal_->start(); !r)
      return make_error("journal", "journal " + cfg.journal_path() + ": " + r.err().message);
    // The journal writes PLG and MSG lines from the raw text (hooks), not from events.
    c_.reg.events().subscribe(journal_->sink(),
                              bus::all_event_kinds & ~(bus::event_bit(bus::event_kind::plugin) |
                                                       bus::event_bit(bus::event_kind::message)));
    c_.reg.hooks().journal_message = [this](const protocol::message&, std::string_view text,
                                            const server::source& src, std::string_view address, double t) {
      journal_->append_message(address, src.port, t, text);
    };

    if (auto r = start_dns(); !r) return r;
    add_gauges();
    // Hosts that only moved last_seen/seq/rtt are saved on every monitor tick (4 a second): a
    // million hosts' saves in four small batches a second rather than one burst that holds the
    // io thread (and every API request behind it) for ~100 ms.
    c_.monitor.on_tick = [this, prev = std::move(c_.monitor.on_tick)](clock::instant t) {
      if (prev) prev(t);
      save_dirty_hosts();
    };
    return {};
  }

  // Flushes dirty hosts, then stops the DNS worker, the journal and the store (in that order).
  void stop() {
    // The queue defers host rows past half full: hand them over as it drains.
    if (store_)
      for (save_dirty_hosts(); c_.reg.dirty_count() > 0 && store_->flush();) save_dirty_hosts();
    if (dns_) dns_->stop();
    if (journal_) journal_->stop();
    if (store_) store_->stop();
  }

  server::store_backend* store() noexcept { return store_.get(); }
  server::journal* journal() noexcept { return journal_.get(); }

  // With several nodes only the leader runs nsupdate (docs/CLUSTER.md).
  void set_dns_gate(std::function<bool()> g) { dns_gate_ = std::move(g); }

  // What the last run left for the parts started after this one (each takes its share once).
  std::vector<json::value> take_alert_states() { return std::move(alert_states_); }
  std::map<std::string, json::value> take_users() { return std::move(users_); }
  // The store's key/value pairs (put_state) whose key starts with `prefix`, e.g. the checks'
  // states under "check:<name>"; each part takes its own.
  std::map<std::string, std::string> take_state(std::string_view prefix) {
    std::map<std::string, std::string> out;
    for (auto it = state_.lower_bound(std::string(prefix));
         it != state_.end() && it->first.rfind(prefix, 0) == 0;)
      out.insert(state_.extract(it++));
    return out;
  }

 private:
  core& c_;
  server::store_lock lock_;  // declared first: released after the store closed
  std::unique_ptr<server::journal> journal_;
  std::unique_ptr<server::store_backend> store_;
  std::string store_name_;  // "state_db <path>" or the PostgreSQL server, for messages
  std::unique_ptr<server::dns_worker> dns_;
  std::function<bool()> dns_gate_;
  std::vector<json::value> alert_states_;
  std::map<std::string, json::value> users_;  // API user changes: name -> record
  std::map<std::string, std::string> state_;  // put_state() pairs

  // SQLite at state_db, or PostgreSQL when `store` holds a connection string (docs/CLUSTER.md).
  static std::unique_ptr<server::store_backend> make_store(const config& c, std::string& name) {
    server::cluster_settings cs = server::cluster_settings_of(c.root);
    if (cs.postgres()) {
      server::pg_store_options o;
      o.conninfo = cs.store;
      o.application_name = "hbd " + cs.node;
      o.history_retention = c.history_retention;
      o.history_samples = c.history_samples;
      auto s = std::make_unique<server::pg_store>(o);
      name = "store " + s->where();
      return s;
    }
    server::store_options so;
    so.path = c.state_db;
    so.history_retention = c.history_retention;
    so.history_samples = c.history_samples;
    name = "state_db " + c.state_db;
    return std::make_unique<server::store>(so);
  }

  static server::journal_options journal_opts(const config& c) {
    server::journal_options o;
    o.enabled = c.journal_enabled;
    o.dir = c.journal_dir;
    o.file = c.journal_file;
    o.max_size = c.journal_max_size;
    o.max_backups = c.journal_max_backups;
    return o;
  }
  static server::dns_options dns_opts(const config& c) {
    server::dns_options o;
    o.nsupdate_bin = c.nsupdate_bin;
    o.dyndomains = c.dyndomains;
    o.key_file = c.nsupdate_key;
    o.server = c.nsupdate_server;
    o.port = c.nsupdate_port;
    o.ttl = c.dns_ttl;
    o.timeout = std::chrono::milliseconds(static_cast<long long>(c.nsupdate_timeout * 1000));
    return o;
  }

  result<void> start_dns() {
    dns_ = std::make_unique<server::dns_worker>(dns_opts(c_.cfg));
    if (!c_.cfg.dyndomains.empty()) {
      if (auto r = dns_->start(); !r) return make_error("dns", r.err().message);
    }
    c_.reg.hooks().dns_update = [this](const server::host& h, bool force) {
      if (dns_gate_ && !dns_gate_()) return;  // another node runs nsupdate
      if (c_.cfg.dyndomains.empty()) {
        if (force) log::warn("dns: ", h.name, ": no dyndomains configured");
        return;
      }
      for (const auto& conn : h.conns)
        if (conn.present) dns_->update(h.name, conn.address, force);
    };
    // A host removed through the API loses the records hbd set for it.
    c_.reg.events().subscribe(
        [this](const bus::event& e) {
          if (e.kind == bus::event_kind::dropped && dns_ && (!dns_gate_ || dns_gate_())) dns_->remove(e.host);
        },
        bus::event_bit(bus::event_kind::dropped));
    return {};
  }

  void add_gauges() {
    auto& st = c_.stats;
    st.add_gauge("heartbeat_queue_depth{queue=\"journal\"}", "Lines waiting for the journal writer.",
                 [this] { return static_cast<double>(journal_ ? journal_->stats().queue_depth : 0); });
    st.add_gauge("heartbeat_queue_dropped_total{queue=\"journal\"}", "Journal lines dropped (queue full).",
                 [this] { return static_cast<double>(journal_ ? journal_->stats().dropped : 0); });
    st.add_gauge("heartbeat_queue_shed_total{queue=\"journal\"}",
                 "Of the dropped journal lines: datagram lines shed to keep room for events (queue three "
                 "quarters full).",
                 [this] { return static_cast<double>(journal_ ? journal_->stats().shed : 0); });
    st.add_gauge("heartbeat_queue_depth{queue=\"store\"}", "Writes waiting for the store writer.",
                 [this] { return static_cast<double>(store_ ? store_->stats().queue_depth : 0); });
    st.add_gauge("heartbeat_queue_dropped_total{queue=\"store\"}", "Store writes dropped (queue full).",
                 [this] { return static_cast<double>(store_ ? store_->stats().dropped : 0); });
    st.add_gauge("heartbeat_queue_shed_total{queue=\"store\"}",
                 "Of the dropped store writes: plugin samples shed to keep room for state writes (queue "
                 "three quarters full).",
                 [this] { return static_cast<double>(store_ ? store_->stats().shed : 0); });
    st.add_gauge("heartbeat_queue_depth{queue=\"dns\"}", "DNS changes waiting for nsupdate.",
                 [this] { return static_cast<double>(dns_ ? dns_->stats().queue_depth : 0); });
  }

  void save_dirty_hosts() {
    // Rendered in the parts the store keeps (no parse on its writer), not through the entry cache:
    // caching every host's entry for the store would hold ~700 bytes a host.
    std::string row, conns;
    c_.reg.drain_dirty([&](const server::host& h) {
      row.clear();
      conns.clear();
      server::write_host_row(row, conns, h);
      return store_->put_host_row(h.name, row, conns, h.last_seen);
    });
  }

  // Consumes the snapshot host by host, so that the memory of what is restored is reused for the
  // registry (at a million hosts both together would be twice the running size).
  void restore(server::store_snapshot& snap, clock::instant now) {
    auto& reg = c_.reg;
    for (auto& sh : snap.hosts) {
      const json::value entry = sh.entry();
      server::host& h =
          entry.is_object() ? reg.restore_host_json(entry, now) : reg.restore_host(sh.name, now);
      for (const auto& p : sh.plugins) {
        if (p.history.empty()) {
          if (!p.data_json.empty()) reg.restore_plugin_sample(h, p.name, p.ts, p.data_json);
          continue;
        }
        for (const auto& s : p.history) reg.restore_plugin_sample(h, p.name, s.ts, s.data_json);
      }
      sh = server::stored_host{};
    }
    for (const auto& cmd : snap.commands) reg.restore_command_json(cmd, now);
    for (const auto& m : snap.messages) reg.restore_message_json(m);
    reg.apply_config(c_.cfg, now);  // the config wins for keys, watch, dyn and roles
    alert_states_ = std::move(snap.alerts);
    users_ = std::move(snap.users);
    state_ = std::move(snap.state);
    if (!snap.hosts.empty())
      log::info("store: restored ", snap.hosts.size(), " hosts, ", snap.commands.size(), " commands, ",
                snap.messages.size(), " messages from ", store_name_);
  }
};

}  // namespace heartbeat::hbd
