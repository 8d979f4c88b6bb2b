// Who may send, for the notifier: with several hbd nodes only the leader sends,
// and every notification goes through an outbox (written, then sent, then marked
// sent) so that the next leader sends what the last one could not. The gate is
// that decision, implemented by hbd's cluster part; without one (a single node)
// everything is sent. Also the notification's stable id and its record form
// (outbox rows). The gate's methods run on the notifier's worker thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/notify/notification.hpp"

namespace heartbeat::notify {

class delivery_gate {
 public:
  virtual ~delivery_gate() = default;
  // Whether this node may send now (the leader, with its lease not run out).
  virtual bool may_send() = 0;
  // Writes a new notification to the outbox before it is sent; false when that failed
  // (then the node stops acting as leader and the notification is held like a follower's).
  virtual bool record(const notification& n) = 0;
  // Every delivery of notification `id` has ended (sent, given up or suppressed).
  virtual void settled(const std::string& id) = 0;
  // A follower's notification, not sent here: kept for a while in case this node becomes
  // leader before the one that should have sent it wrote it to the outbox.
  virtual void hold(const notification& n) = 0;
  // This node just became leader: what it must send now (outbox entries not marked sent,
  // and held notifications that no node recorded), each with its id.
  virtual std::vector<notification> takeover() = 0;
};

// A random 128-bit id in hex: unique without coordination between nodes.
inline std::string new_notification_id() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (int part = 0; part < 2; ++part) {
    std::uint64_t v = rng();
    for (int i = 0; i < 16; ++i, v >>= 4) out.push_back(hex[v & 15]);
  }
  return out;
}

// What identifies the same happening on every node (host, kind, new state or level, metric; not
// the previous state, which nodes may have seen differently): two nodes that see a host go DOWN
// build notifications with the same key.
inline std::string notification_key(const notification& n) {
  return n.host + "|" + to_string(n.kind) + "|" + n.to + "|" + to_string(n.level) + "|" + n.metric_path;
}

// Every field, for the outbox (and back).
inline json::value notification_record(const notification& n) {
  json::value v = json::value::object();
  v.set("id", n.id);
  v.set("host", n.host);
  v.set("kind", to_string(n.kind));
  v.set("level", to_string(n.level));
  v.set("severity", to_string(n.severity));
  v.set("text", n.text);
  v.set("metric_path", n.metric_path);
  v.set("value", std::isnan(n.value) ? json::value() : json::value(n.value));
  v.set("threshold", std::isnan(n.threshold) ? json::value() : json::value(n.threshold));
  v.set("from", n.from);
  v.set("to", n.to);
  v.set("duration", n.duration);
  v.set("ts", n.ts);
  if (!n.escalation.empty()) v.set("escalation", n.escalation);
  if (!n.recipients.empty()) {
    json::value users = json::value::array();
    for (const auto& u : n.recipients) users.push_back(u);
    v.set("recipients", std::move(users));
  }
  return v;
}

inline notification notification_from_record(const json::value& v) {
  notification n;
  n.id = v.string_or("id", "");
  n.host = v.string_or("host", "");
  if (auto k = kind_names.parse(v.string_or("kind", "alert"))) n.kind = *k;
  parse_level(v.string_or("level", "WARNING"), n.level);
  parse_level(v.string_or("severity", "WARNING"), n.severity);
  n.text = v.string_or("text", "");
  n.metric_path = v.string_or("metric_path", "");
  if (const json::value* x = v.find("value"); x && x->is_number()) n.value = x->as_number();
  if (const json::value* x = v.find("threshold"); x && x->is_number()) n.threshold = x->as_number();
  n.from = v.string_or("from", "");
  n.to = v.string_or("to", "");
  n.duration = v.number_or("duration", 0);
  n.ts = v.number_or("ts", 0);
  n.escalation = v.string_or("escalation", "");
  if (const json::value* users = v.find("recipients"); users && users->is_array())
    for (const auto& u : users->as_array())
      if (u.is_string()) n.recipients.push_back(u.as_string());
  return n;
}

// Journal reason of a notification a follower does not send.
inline constexpr std::string_view follower_reason = "follower";

}  // namespace heartbeat::notify
