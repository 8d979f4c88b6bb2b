// One hbd node among several on one PostgreSQL: membership (cluster_nodes, seen
// every tick), the leader's lease (a row with an expiry on the database's clock,
// renewed every lease/3; docs/CLUSTER.md says why not an advisory lock) and the
// change feed (API writes one node makes, as cluster_changes rows announced with
// NOTIFY and read by every other node, also polled every tick). Runs on a
// thread of its own with its own connection; the io thread reads is_leader(),
// view() and queues publish(); callbacks run on the cluster thread.
#pragma once

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/server/detail/pg.hpp"

namespace heartbeat::server {

struct cluster_options {
  std::string conninfo;
  std::string node;                 // unique per node
  std::string version;              // hbd's version, shown in /api/0/cluster
  double lease = 10;                // seconds
  std::size_t max_pending = 10000;  // changes waiting while the database is away
};

struct cluster_change {
  std::int64_t id = 0;
  std::string node;  // who made it
  double ts = 0;
  std::string kind;  // "user", "access", "ack", "drop", "dns", "command", "session", ...
  std::string data;  // JSON text
};

struct cluster_member {
  std::string name, version;
  double started = 0, last_seen = 0;
};

// What GET /api/0/cluster shows.
struct cluster_view {
  std::vector<cluster_member> nodes;
  std::string leader;  // empty: no lease held
  double lease_expires = 0;
  std::int64_t term = 0;
  bool connected = false;
};

class cluster_node {
 public:
  explicit cluster_node(cluster_options o) : opt_(std::move(o)) {}
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;
  ~cluster_node() { stop(); }

  // Other nodes' changes, in order (and, after each connect, the live sessions as "session"
  // changes). This node became leader (a new local term) / stopped being leader.
  std::function<void(std::vector<cluster_change>)> on_changes;
  std::function<void(std::uint64_t term)> on_promoted;
  std::function<void()> on_demoted;

  const cluster_options& options() const noexcept { return opt_; }

  void start() {
    if (thread_.joinable()) return;
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    stop_.store(false);
    thread_ = std::thread([this] { run(); });
  }

  void stop() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    wake();
    thread_.join();
    leader_until_.store(0);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    wake_fd_ = -1;
  }

  // Any thread: this node holds the lease and its local deadline (the renewal's start plus
  // lease minus a safety margin, on the monotonic clock) has not passed. The database lets
  // another node take the lease only after `lease` seconds from that renewal: a node cut off
  // from the database stops acting as leader before anyone else may start.
  bool is_leader() const { return clock::mono_now() < leader_until_.load(std::memory_order_acquire); }
  std::uint64_t term() const noexcept { return term_.load(); }
  // Any thread: act as a follower until the next renewal, which then starts a new term (an
  // outbox write failed: what the node holds is sent again after the takeover).
  void step_down() {
    leader_until_.store(0, std::memory_order_release);
    wake();
  }

  // Any thread: queues a change for the other nodes (false: dropped, queue full).
  bool publish(std::string kind, std::string data) {
    {
      std::lock_guard lk(m_);
      if (pending_.size() >= opt_.max_pending) {
        ++dropped_;
        return false;
      }
      pending_.push_back(cluster_change{0, opt_.node, clock::wall_now(), std::move(kind), std::move(data)});
    }
    wake();
    return true;
  }

  cluster_view view() const {
    std::lock_guard lk(m_);
    return view_;
  }
  std::uint64_t dropped() const {
    std::lock_guard lk(m_);
    return dropped_;
  }

 private:
  cluster_options opt_;
  detail::pg_conn db_;  // cluster thread
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<double> leader_until_{0};  // clock::mono_now() deadline
  std::atomic<std::uint64_t> term_{0};   // local terms: each takeover starts one
  int wake_fd_ = -1;
  mutable std::mutex m_;
  std::deque<cluster_change> pending_;
  cluster_view view_;
  std::uint64_t dropped_ = 0;
  std::int64_t last_change_ = -1;  // cluster thread: the newest change applied
  bool was_leader_ = false;        // cluster thread

  double tick() const { return std::clamp(opt_.lease / 3, 0.2, 1.0); }
  double renew_every() const { return opt_.lease / 3; }
  double safety() const { return opt_.lease / 5; }

  void wake() {
    if (wake_fd_ < 0) return;
    std::uint64_t one = 1;
    ssize_t n = ::write(wake_fd_, &one, sizeof one);
    (void)n;
  }

  void set_connected(bool c) {
    std::lock_guard lk(m_);
    view_.connected = c;
  }

  // Opens the connection, LISTENs, and reads what a (re)connected node needs; on any failure
  // the connection is closed again (the schema may not exist yet: the store creates it).
  bool connect() {
    if (db_.ok()) return true;
    if (auto r = db_.open(opt_.conninfo, "hbd " + opt_.node + " cluster"); !r) return false;
    if (!setup()) {
      db_.close();
      return false;
    }
    set_connected(true);
    log::info("cluster: node ", opt_.node, " connected");
    return true;
  }

  bool setup() {
    // A statement that hangs must not outlive the lease by much.
    std::string ms = std::to_string(static_cast<long long>(std::max(1000.0, opt_.lease * 500)));
    if (!db_.exec("SET statement_timeout = " + ms) || !db_.exec("LISTEN hb_changes")) return false;
    if (last_change_ < 0) {
      // Replay the last half minute: what the snapshot at start may have missed (applying a
      // change twice is harmless).
      auto r = db_.query(
          "SELECT coalesce((SELECT min(id) - 1 FROM cluster_changes WHERE ts > $1), (SELECT max(id) FROM "
          "cluster_changes), 0)",
          {detail::pg_number(clock::wall_now() - 30)});
      if (!r) return false;
      last_change_ = static_cast<std::int64_t>(detail::pg_double(*r, 0, 0));
    }
    // Sessions made while this node was away (or before it started).
    auto s = db_.query("SELECT digest, username, csrf, created, expires FROM sessions WHERE expires > $1",
                       {detail::pg_number(clock::wall_now())});
    if (!s) return false;
    std::vector<cluster_change> out;
    for (int i = 0; i < detail::pg_rows(*s); ++i) {
      json::value d = json::value::object({{"digest", detail::pg_text(*s, i, 0)},
                                           {"user", detail::pg_text(*s, i, 1)},
                                           {"csrf", detail::pg_text(*s, i, 2)},
                                           {"created", detail::pg_double(*s, i, 3)},
                                           {"expires", detail::pg_double(*s, i, 4)}});
      out.push_back(cluster_change{0, "", 0, "session", d.dump()});
    }
    if (!out.empty() && on_changes) on_changes(std::move(out));
    return true;
  }

  bool fail(const std::string& why) {
    if (db_.ok()) log::warn("cluster: ", why);
    if (!db_.ok()) {
      if (view().connected) log::warn("cluster: lost the database: ", why.empty() ? db_.errmsg() : why);
      db_.close();
      set_connected(false);
    }
    return false;
  }

  // The lease: renewed by its holder, taken by anyone once it expired (database clock).
  bool lease_round() {
    double sent = clock::mono_now();
    auto r = db_.query(
        "INSERT INTO cluster_lease(id, holder, expires, term) VALUES (1, $1, extract(epoch FROM "
        "statement_timestamp()) + $2::float8, 1) ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, "
        "expires = excluded.expires, term = CASE WHEN cluster_lease.holder = excluded.holder AND "
        "cluster_lease.expires > extract(epoch FROM statement_timestamp()) THEN cluster_lease.term ELSE "
        "cluster_lease.term + 1 END WHERE cluster_lease.holder = excluded.holder OR cluster_lease.expires <= "
        "extract(epoch FROM statement_timestamp()) RETURNING holder, expires, term",
        {opt_.node, detail::pg_number(opt_.lease)});
    if (!r) return fail(r.err().message);
    bool mine = detail::pg_rows(*r) == 1;
    if (mine) {
      double until = sent + opt_.lease - safety();
      bool fresh = !is_leader();
      leader_until_.store(until, std::memory_order_release);
      {
        std::lock_guard lk(m_);
        view_.leader = opt_.node;
        view_.lease_expires = detail::pg_double(*r, 0, 1);
        view_.term = static_cast<std::int64_t>(detail::pg_double(*r, 0, 2));
      }
      if (fresh) {
        std::uint64_t t = term_.fetch_add(1) + 1;
        was_leader_ = true;
        log::info("cluster: ", opt_.node, " is the leader (term ", t, ")");
        if (on_promoted) on_promoted(t);
      }
    } else {
      leader_until_.store(0, std::memory_order_release);
      auto cur = db_.query(
          "SELECT holder, expires, term, extract(epoch FROM statement_timestamp()) FROM "
          "cluster_lease");
      if (!cur) return fail(cur.err().message);
      std::lock_guard lk(m_);
      bool held = detail::pg_rows(*cur) == 1 && detail::pg_double(*cur, 0, 1) > detail::pg_double(*cur, 0, 3);
      view_.leader = held ? detail::pg_text(*cur, 0, 0) : std::string();
      view_.lease_expires = held ? detail::pg_double(*cur, 0, 1) : 0;
      view_.term = detail::pg_rows(*cur) == 1 ? static_cast<std::int64_t>(detail::pg_double(*cur, 0, 2)) : 0;
    }
    return true;
  }

  bool members_round(double started) {
    auto r = db_.exec(
        "INSERT INTO cluster_nodes(name, version, started, last_seen) VALUES ($1, $2, $3, extract(epoch "
        "FROM statement_timestamp())) ON CONFLICT (name) DO UPDATE SET version = excluded.version, started = "
        "excluded.started, last_seen = excluded.last_seen",
        {opt_.node, opt_.version, detail::pg_number(started)});
    if (!r) return fail(r.err().message);
    auto rows = db_.query("SELECT name, version, started, last_seen FROM cluster_nodes ORDER BY name");
    if (!rows) return fail(rows.err().message);
    std::vector<cluster_member> nodes;
    for (int i = 0; i < detail::pg_rows(*rows); ++i)
      nodes.push_back(cluster_member{detail::pg_text(*rows, i, 0), detail::pg_text(*rows, i, 1),
                                     detail::pg_double(*rows, i, 2), detail::pg_double(*rows, i, 3)});
    std::lock_guard lk(m_);
    view_.nodes = std::move(nodes);
    return true;
  }

  // Writes the queued changes (and the sessions table they describe) in one transaction.
  bool publish_round() {
    std::deque<cluster_change> batch;
    {
      std::lock_guard lk(m_);
      batch.swap(pending_);
    }
    if (batch.empty()) return true;
    auto put_back = [&] {
      std::lock_guard lk(m_);
      while (!batch.empty() && pending_.size() < opt_.max_pending) {
        pending_.push_front(std::move(batch.back()));
        batch.pop_back();
      }
      dropped_ += batch.size();
    };
    auto ok = db_.exec("BEGIN");
    for (auto it = batch.begin(); ok && it != batch.end(); ++it) {
      ok = db_.exec("INSERT INTO cluster_changes(node, ts, kind, data) VALUES ($1, $2, $3, $4)",
                    {it->node, detail::pg_number(it->ts), it->kind, it->data});
      if (ok) ok = write_session(*it);
    }
    if (ok) ok = db_.exec("SELECT pg_notify('hb_changes', '')");
    if (ok) ok = db_.exec("COMMIT");
    if (!ok) {
      (void)db_.exec("ROLLBACK");
      std::string why = ok.err().message;
      if (db_.ok()) {
        log::warn("cluster: changes not published: ", why);  // refused: not retried
        std::lock_guard lk(m_);
        dropped_ += batch.size();
        return true;
      }
      put_back();
      return fail(why);
    }
    return true;
  }

  result<void> write_session(const cluster_change& c) {
    if (c.kind != "session" && c.kind != "session_revoke" && c.kind != "session_revoke_user") return {};
    auto d = json::parse(c.data);
    if (!d || !d->is_object()) return {};
    if (c.kind == "session")
      return db_.exec(
          "INSERT INTO sessions(digest, username, csrf, created, expires) VALUES ($1, $2, $3, $4, $5) ON "
          "CONFLICT (digest) DO UPDATE SET expires = excluded.expires",
          {d->string_or("digest", ""), d->string_or("user", ""), d->string_or("csrf", ""),
           detail::pg_number(d->number_or("created", 0)), detail::pg_number(d->number_or("expires", 0))});
    if (c.kind == "session_revoke")
      return db_.exec("DELETE FROM sessions WHERE digest = $1", {d->string_or("digest", "")});
    return db_.exec("DELETE FROM sessions WHERE username = $1", {d->string_or("user", "")});
  }

  // Reads the changes other nodes made since the last round.
  bool fetch_round() {
    for (;;) {
      auto r = db_.query(
          "SELECT id, node, ts, kind, data FROM cluster_changes WHERE id > $1 ORDER BY id LIMIT 1000",
          {std::to_string(last_change_)});
      if (!r) return fail(r.err().message);
      int n = detail::pg_rows(*r);
      std::vector<cluster_change> out;
      for (int i = 0; i < n; ++i) {
        cluster_change c{static_cast<std::int64_t>(detail::pg_double(*r, i, 0)), detail::pg_text(*r, i, 1),
                         detail::pg_double(*r, i, 2), detail::pg_text(*r, i, 3), detail::pg_text(*r, i, 4)};
        last_change_ = std::max(last_change_, c.id);
        if (c.node != opt_.node) out.push_back(std::move(c));
      }
      if (!out.empty() && on_changes) on_changes(std::move(out));
      if (n < 1000) return true;
    }
  }

  void run() {
    double started = clock::wall_now();
    double next_renew = 0, next_round = 0, next_connect = 0, backoff = 0.25;
    while (!stop_.load()) {
      double now = clock::mono_now();
      if (was_leader_ && !is_leader()) {
        was_leader_ = false;
        log::warn("cluster: ", opt_.node, " is no longer the leader");
        if (on_demoted) on_demoted();
      }
      if (!db_.ok() && now >= next_connect) {
        if (connect()) {
          backoff = 0.25;
          next_renew = next_round = now;
        } else {
          next_connect = now + backoff;
          backoff = std::min(backoff * 2, 5.0);
        }
      }
      if (db_.ok()) {
        bool ok = publish_round();
        if (ok && !db_.notifications().empty()) ok = fetch_round();
        // The leader renews every lease/3; the others try every tick (a cheap refused update).
        bool round_due = now >= next_round;
        if (ok && (is_leader() ? now >= next_renew : round_due)) {
          ok = lease_round();
          if (ok && is_leader()) next_renew = now + renew_every();
        }
        if (ok && round_due) {
          ok = members_round(started) && fetch_round();
          next_round = now + tick();
        }
      }
      double until = db_.ok() ? std::min(next_round, is_leader() ? next_renew : next_round) : next_connect;
      int ms = static_cast<int>(std::clamp((until - clock::mono_now()) * 1000, 0.0, 1000.0));
      pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {db_.ok() ? db_.socket() : -1, POLLIN, 0}};
      if (::poll(fds, 2, ms) > 0 && (fds[0].revents & POLLIN)) {
        std::uint64_t v;
        ssize_t n = ::read(wake_fd_, &v, sizeof v);
        (void)n;
      }
    }
    bool leading = is_leader();
    leader_until_.store(0);  // nothing is sent from here any more ...
    if (db_.ok()) {
      (void)publish_round();
      // ... so the lease can go over at once instead of running out.
      if (leading)
        (void)db_.exec("UPDATE cluster_lease SET expires = 0 WHERE id = 1 AND holder = $1", {opt_.node});
    }
    db_.close();
  }
};

}  // namespace heartbeat::server
