// hbd's event log, wired: every alert transition (an alert event on the bus) and every
// notification outcome (a journal record of the notifier: sent, retried, failed, fell back,
// suppressed with its reason, escalated, partition) becomes one row of the store's events
// table, which GET /api/0/events and the /events page read. The rows are built here on the io
// thread and written by the store's writer thread in its batches.
#pragma once

#include <string>
#include <utility>

#include "heartbeat/bus/events.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/notify/notification.hpp"
#include "heartbeat/server/event_log.hpp"
#include "heartbeat/server/store_backend.hpp"

namespace heartbeat::hbd {

// An alert transition: kind alert (a change, or a resend when maintenance ended), reminder or
// acknowledged; result notify (handed to the notifier), suppressed (maintenance, watch false)
// or silent (not notified by the rules: de-escalation, already sent, acknowledgement).
inline server::event_row event_from_alert(const bus::event& e) {
  const json::value& d = e.data;
  server::event_row row;
  row.ts = d.number_or("ts", e.ts);
  row.host = e.host.empty() ? d.string_or("hostname", "") : e.host;
  row.metric = d.string_or("metric_path", "");
  const std::string transition = d.string_or("kind", "change");
  row.kind = transition == "reminder" || transition == "acknowledged" ? transition : std::string("alert");
  row.reason = d.string_or("reason", "");
  row.result = d.bool_or("notify", false)                             ? "notify"
               : row.reason.find("suppressed: ") != std::string::npos ? "suppressed"
                                                                      : "silent";
  json::value o = json::value::object({{"time", row.ts},
                                       {"source", "alert"},
                                       {"host", row.host},
                                       {"metric_path", row.metric},
                                       {"kind", row.kind},
                                       {"result", row.result},
                                       {"reason", row.reason},
                                       {"text", d.string_or("text", "")},
                                       {"level", d.string_or("to", d.string_or("level", ""))}});
  for (const char* k : {"from", "to", "value", "threshold", "display"})
    if (const json::value* v = d.find(k); v && !v->is_null()) o.set(k, *v);
  o.set("transition", transition);
  row.json = o.dump();
  return row;
}

// What became of a notification: the journal record's fields, with source "notifier".
inline server::event_row event_from_record(const notify::journal_record& r) {
  server::event_row row;
  row.ts = r.ts;
  row.host = r.host;
  row.metric = r.metric_path;
  row.kind = notify::to_string(r.kind);
  row.result = notify::to_string(r.outcome);
  row.reason = r.reason;
  json::value o = json::value::object({{"time", r.ts},
                                       {"source", "notifier"},
                                       {"host", r.host},
                                       {"metric_path", r.metric_path},
                                       {"kind", row.kind},
                                       {"result", row.result},
                                       {"reason", r.reason},
                                       {"text", r.text},
                                       {"level", notify::to_string(r.level)}});
  if (!r.channel.empty()) o.set("channel", r.channel);
  if (!r.user.empty()) o.set("user", r.user);
  if (!r.error.empty()) o.set("error", r.error);
  if (r.attempt > 0) o.set("attempt", r.attempt);
  row.json = o.dump();
  return row;
}

// Writes each alert event of the bus to the store's event log (notification outcomes are
// written by the notifier's journal callback, hbd/notifying.hpp).
inline void log_alert_events(bus::event_bus& bus, server::store_backend* store) {
  if (!store) return;
  bus.subscribe([store](const bus::event& e) { store->put_event(event_from_alert(e)); },
                bus::event_bit(bus::event_kind::alert));
}

}  // namespace heartbeat::hbd
