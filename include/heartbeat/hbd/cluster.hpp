// hbd's cluster part, wired when `store` names PostgreSQL (docs/CLUSTER.md): the
// node's membership, lease and change feed (server/cluster.hpp) on their own
// thread; the notifier's gate (only the leader sends, through the outbox);
// commands dispatched and nsupdate run by the leader only; API writes (users,
// access, acknowledgements, host removals, DNS requests, commands, sessions)
// published for the other nodes and theirs applied here; GET /api/0/cluster.
// Started last (it needs the HTTP side's backend and sessions), stopped first
// (a node going away hands its lease over at once). io thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/core/log.hpp"
#include "heartbeat/core/version.hpp"
#include "heartbeat/hbd/accounts.hpp"
#include "heartbeat/hbd/cluster_gate.hpp"
#include "heartbeat/hbd/core.hpp"
#include "heartbeat/hbd/http.hpp"
#include "heartbeat/hbd/notifying.hpp"
#include "heartbeat/hbd/persistence.hpp"
#include "heartbeat/server/cluster.hpp"
#include "heartbeat/server/cluster_config.hpp"
#include "heartbeat/server/commands.hpp"

namespace heartbeat::hbd {

class cluster {
 public:
  cluster(core& c, persistence& p, notifying& n, accounts& a, http& h)
      : c_(c), persist_(p), notify_(n), accounts_(a), http_(h) {}

  // Nothing to do with the SQLite store (one node).
  result<void> start() {
    server::cluster_settings cs = server::cluster_settings_of(c_.cfg.root);
    if (!cs.postgres()) return {};
    server::cluster_options o;
    o.conninfo = cs.store;
    o.node = cs.node;
    o.version = heartbeat::version;
    o.lease = cs.lease;
    node_ = std::make_unique<server::cluster_node>(o);
    node_->on_changes = [this](std::vector<server::cluster_change> v) {
      c_.post([this, v = std::move(v)] { apply(v); });
    };
    node_->on_promoted = [this](std::uint64_t) { c_.post([this] { promoted(); }); };
    gate_ = std::make_shared<cluster_gate>(*node_, cs.store);
    if (auto* svc = notify_.service()) svc->set_gate(gate_);
    c_.reg.hooks().dispatch_commands = [this] { return node_->is_leader(); };
    c_.reg.set_command_node(cs.node);
    persist_.set_dns_gate([this] { return node_->is_leader(); });
    wire_feed();
    add_gauges();
    node_->start();
    log::info("cluster: node ", cs.node, ", lease ", cs.lease, " s, on ",
              server::detail::describe_conninfo(cs.store));
    return {};
  }

  void stop() {
    if (node_) node_->stop();
  }

  server::cluster_node* node() noexcept { return node_.get(); }

 private:
  core& c_;
  persistence& persist_;
  notifying& notify_;
  accounts& accounts_;
  http& http_;
  std::unique_ptr<server::cluster_node> node_;
  std::shared_ptr<cluster_gate> gate_;
  bool applying_ = false;  // applying another node's change: not published again

  void publish(std::string kind, const json::value& data) {
    if (applying_ || !node_) return;
    if (!node_->publish(std::move(kind), data.dump()))
      log::warn("cluster: change queue full; a change is not seen by the other nodes");
  }

  static std::string hex(const std::string& raw) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char ch : raw) {
      out.push_back(d[ch >> 4]);
      out.push_back(d[ch & 15]);
    }
    return out;
  }
  static std::string unhex(const std::string& h) {
    auto v = [](char ch) { return ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10; };
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
      out.push_back(static_cast<char>(v(h[i]) * 16 + v(h[i + 1])));
    return out;
  }

  void add_gauges() {
    auto& st = c_.stats;
    st.add_gauge("heartbeat_cluster_leader", "1 while this node acts as the cluster's leader.",
                 [this] { return node_ && node_->is_leader() ? 1.0 : 0.0; });
    st.add_gauge("heartbeat_cluster_connected", "1 while the cluster's connection to PostgreSQL is up.",
                 [this] { return node_ && node_->view().connected ? 1.0 : 0.0; });
    st.add_gauge("heartbeat_cluster_changes_dropped_total", "API changes not published to the other nodes.",
                 [this] { return node_ ? static_cast<double>(node_->dropped()) : 0.0; });
    if (auto* pg = dynamic_cast<server::pg_store*>(persist_.store()))
      st.add_gauge("heartbeat_store_connected", "1 while the store's connection to PostgreSQL is up.",
                   [pg] { return pg->connected() ? 1.0 : 0.0; });
  }

  // What this node's API changes tell the others.
  void wire_feed() {
    if (auto* b = http_.backend()) {
      b->on_change = [this](std::string_view kind, json::value d) { publish(std::string(kind), d); };
      b->cluster_status = [this] { return status(); };
    }
    accounts_.on_user_change = [this](const std::string& name, const std::string& record) {
      auto r = json::parse(record);
      publish("user", json::value::object({{"name", name}, {"record", r ? std::move(*r) : json::value()}}));
    };
    if (auto* srv = http_.server()) {
      srv->sessions().on_change = [this](const std::string& digest, const api::session* s) {
        if (!s) return publish("session_revoke", json::value::object({{"digest", hex(digest)}}));
        publish("session", json::value::object({{"digest", hex(digest)},
                                                {"user", s->user},
                                                {"csrf", s->csrf},
                                                {"created", s->created},
                                                {"expires", s->expires}}));
      };
      srv->sessions().on_revoke_user = [this](std::string_view user) {
        publish("session_revoke_user", json::value::object({{"user", std::string(user)}}));
      };
    }
    // Commands: queued on any node, sent and finished by the leader; every node shows them.
    c_.reg.events().subscribe([this](const bus::event& e) { publish("command", e.data); },
                              bus::event_bit(bus::event_kind::command));
  }

  // Other nodes' changes, in order (io thread).
  void apply(const std::vector<server::cluster_change>& changes) {
    applying_ = true;
    for (const auto& ch : changes) {
      auto d = json::parse(ch.data);
      if (d && d->is_object()) apply_one(ch.kind, *d);
    }
    applying_ = false;
  }

  void apply_one(const std::string& kind, const json::value& d) {
    feed_backend* b = http_.backend();
    api::http_server* srv = http_.server();
    std::string host = d.string_or("host", "");
    if (kind == "user") {
      std::vector<api::user> users = accounts_.apply_remote(
          d.string_or("name", ""), d.find("record") ? *d.find("record") : json::value());
      if (srv) srv->set_users(users);
    } else if (kind == "access" && b) {
      api::host_access a;
      a.owner = d.string_or("owner", "");
      for (const char* k : {"managers", "monitors"})
        if (const json::value* l = d.find(k); l && l->is_array())
          for (const auto& x : l->as_array())
            if (x.is_string()) (k[1] == 'a' ? a.managers : a.monitors).push_back(x.as_string());
      (void)b->set_access(host, a);
    } else if (kind == "drop" && b) {
      (void)b->drop_host(host);
    } else if (kind == "ack" && b) {
      (void)b->ack_alert(host, d.string_or("metric_path", ""), d.string_or("by", ""));
    } else if (kind == "dns" && b) {
      if (node_->is_leader()) (void)b->request_dns(host);
    } else if (kind == "command") {
      merge_command(d);
    } else if (kind == "session" && srv) {
      api::session s{d.string_or("user", ""), d.string_or("csrf", ""), d.number_or("created", 0),
                     d.number_or("expires", 0)};
      // Expiry is judged on the monotonic clock: the wall time the other node told, on this node's.
      const clock::instant now = clock::now();
      if (s.expires > now.wall) {
        s.deadline = now.mono_of(s.expires);
        srv->sessions().adopt(unhex(d.string_or("digest", "")), std::move(s));
      }
    } else if (kind == "session_revoke" && srv) {
      srv->sessions().forget(unhex(d.string_or("digest", "")));
    } else if (kind == "session_revoke_user" && srv) {
      srv->sessions().forget_user(d.string_or("user", ""));
    }
  }

  static int rank(server::command_state s) {
    switch (s) {
      case server::command_state::queued: return 0;
      case server::command_state::sent: return 1;
      case server::command_state::done:
      case server::command_state::expired: return 2;
    }
    return 0;
  }

  // Another node's command record: new ones are added, known ones only move forward
  // (queued, sent, done or expired), so the leader's progress is never undone.
  void merge_command(const json::value& j) {
    server::host* h = c_.reg.find(j.string_or("host", ""));
    if (!h) return;
    server::command_record in = server::command_from_json(j);
    if (in.id.empty()) return;
    in.expires_mono = clock::now().mono_of(in.expires_at);  // expiry is judged on this node's monotonic clock
    bool known = false;
    for (auto& c : h->commands) {
      if (c.id != in.id) continue;
      known = true;
      if (rank(in.state) < rank(c.state) || (in.state == c.state && in.sent_count <= c.sent_count)) return;
      c = std::move(in);
      ++h->version;  // its /api/0/hosts entry (commands_pending) is rendered again
      break;
    }
    if (!known) c_.reg.restore_command_json(j);
    bus::event e;
    e.kind = bus::event_kind::command;
    e.ts = clock::wall_now();
    e.host = h->name;
    e.data = j;
    c_.reg.events().publish(e);  // the WebSocket and the store see it (not published back)
  }

  // This node became leader: the notifier sends what no node sent, and the DNS records of dyn
  // hosts are brought to what this node sees.
  void promoted() {
    if (auto* svc = notify_.service()) svc->take_over();
    auto& hook = c_.reg.hooks().dns_update;
    if (!hook) return;
    for (const server::host* h : c_.reg.hosts())
      if (h->dyn) hook(*h, false);
  }

  json::value status() const {
    server::cluster_view v = node_->view();
    // Cut off from the database, the last lease seen is shown only until it runs out.
    if (!v.connected && v.lease_expires <= clock::wall_now()) {
      v.leader.clear();
      v.lease_expires = 0;
    }
    json::value nodes = json::value::array();
    for (const auto& m : v.nodes)
      nodes.push_back(json::value::object({{"name", m.name},
                                           {"leader", !v.leader.empty() && m.name == v.leader},
                                           {"last_seen", m.last_seen},
                                           {"version", m.version}}));
    return json::value::object(
        {{"nodes", std::move(nodes)},
         {"leader", v.leader.empty() ? json::value() : json::value(v.leader)},
         {"lease_expires", v.lease_expires > 0 ? json::value(v.lease_expires) : json::value()},
         {"node", node_->options().node},
         {"connected", v.connected}});
  }
};

}  // namespace heartbeat::hbd
