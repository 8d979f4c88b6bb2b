// The notifier's gate when several hbd nodes share PostgreSQL (notify/gate.hpp):
// the leader writes each notification to the outbox before sending it and marks
// it sent when its deliveries ended; a follower holds what it would have sent
// (journaled `suppressed: follower`) for a while, and on becoming leader sends
// every outbox entry not marked sent plus the held notifications no node wrote
// to the outbox (the leader died before it could). Notifier worker thread.
#pragma once

#include <algorithm>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/notify/gate.hpp"
#include "heartbeat/server/cluster.hpp"
#include "heartbeat/server/outbox.hpp"

namespace heartbeat::hbd {

class cluster_gate : public notify::delivery_gate {
 public:
  // Held notifications are kept this long (an outage of the database for every node) ...
  static constexpr double hold_for = 600;
  // ... and at most this many.
  static constexpr std::size_t hold_max = 10000;

  cluster_gate(server::cluster_node& node, const std::string& conninfo)
      : node_(node), outbox_(conninfo, node.options().node) {}

  bool may_send() override { return node_.is_leader(); }

  bool record(const notify::notification& n) override {
    retry_marks();
    auto r = outbox_.insert(n.id, event_time(n), notify::notification_key(n),
                            notify::notification_record(n).dump());
    if (r) return true;
    log::warn("cluster: outbox write failed (", r.err().message,
              "); acting as a follower until the lease is renewed");
    node_.step_down();
    return false;
  }

  void settled(const std::string& id) override {
    if (auto r = outbox_.mark_sent(id); !r) {
      // A later leader may send it again (with the same id) unless a retry gets through first.
      log::warn("cluster: outbox: cannot mark ", id, " sent: ", r.err().message);
      if (unmarked_.size() < hold_max) unmarked_.push_back(id);
    }
  }

  void hold(const notify::notification& n) override {
    double now = clock::wall_now();
    while (!held_.empty() && (held_.front().second < now - hold_for || held_.size() >= hold_max))
      held_.pop_front();
    held_.emplace_back(n, now);
  }

  std::vector<notify::notification> takeover() override {
    std::vector<notify::notification> out;
    retry_marks();
    auto unsent = outbox_.unsent();
    if (!unsent) {
      log::warn("cluster: outbox unreadable at takeover (", unsent.err().message, ")");
      node_.step_down();  // the next term tries again
      return out;
    }
    for (const auto& e : *unsent) {
      auto v = json::parse(e.record);
      if (!v || !v->is_object()) continue;
      notify::notification n = notify::notification_from_record(*v);
      n.id = e.id;
      out.push_back(std::move(n));
    }
    std::size_t from_outbox = out.size();
    // Held here: sent unless some node recorded the same happening (same key, about the same
    // event time: nodes see a change within a monitor tick or two of each other).
    double window = std::max(5.0, node_.options().lease);
    while (!held_.empty()) {
      const notify::notification& n = held_.front().first;
      auto seen = outbox_.recorded_near(notify::notification_key(n), event_time(n), window);
      if (!seen) {
        log::warn("cluster: outbox unreadable at takeover (", seen.err().message, ")");
        node_.step_down();
        return out;
      }
      if (!*seen) {
        if (!record(n)) return out;  // still held: the next term tries again
        out.push_back(n);
      }
      held_.pop_front();
    }
    if (!out.empty())
      log::info("cluster: takeover: ", from_outbox, " unsent outbox entries, ", out.size() - from_outbox,
                " notifications no node sent");
    return out;
  }

 private:
  server::cluster_node& node_;
  server::pg_outbox outbox_;
  std::deque<std::pair<notify::notification, double>> held_;  // with the wall time it was held
  std::vector<std::string> unmarked_;

  // When it happened as this node saw it: the event's time, not when the notifier got to it (a
  // busy notifier must not make one happening look like two).
  static double event_time(const notify::notification& n) { return n.ts > 0 ? n.ts : clock::wall_now(); }

  void retry_marks() {
    std::vector<std::string> left;
    for (auto& id : unmarked_)
      if (!outbox_.mark_sent(id)) left.push_back(std::move(id));
    unmarked_ = std::move(left);
  }
};

}  // namespace heartbeat::hbd
