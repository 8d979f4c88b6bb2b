// The event log of the store: one row per alert transition and per notification outcome
// (sent, retried, failed, fell back, suppressed with its reason, escalated, partition), the
// journal's explanations made queryable for GET /api/0/events. This header holds the row and
// the query (plain data, any thread); store.hpp writes rows on its writer thread and answers
// queries on its reader thread with the SQL of detail/store_events.hpp.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_set>

namespace heartbeat::server {

// One event as written: the indexed columns and the whole API entry as JSON text.
struct event_row {
  double ts = 0;
  std::string host;    // empty: not about one host (a partition, a channel failure)
  std::string metric;  // metric path of alerts and reminders, else empty
  std::string kind;    // alert, reminder, acknowledged, host_down, host_up, ..., partition
  std::string result;  // notify, silent, suppressed, sent, retried, failed, ..., partition_over
  std::string reason;
  std::string json;  // {"time","source","host","metric_path","kind","result","reason","text",...}
};

// GET /api/0/events?host=&metric=&kind=&result=&since=&until=&limit=: empty strings match
// anything. `visible` (when set) restricts rows to those hosts and hides rows without a host:
// the caller's roles.
struct event_query {
  std::string host = {}, metric = {}, kind = {}, result = {};
  double since = 0, until = 1e300;
  std::size_t limit = 100;
  std::shared_ptr<const std::unordered_set<std::string>> visible = nullptr;
};

}  // namespace heartbeat::server
