// Handler of GET /api/0/cluster: the hbd nodes sharing one PostgreSQL, which one is the leader
// and until when its lease runs (docs/CLUSTER.md); a single node answers with itself. io thread.
#pragma once

#include "heartbeat/api/request.hpp"

namespace heartbeat::api::handlers::cluster {

// {"nodes":[{"name","leader","last_seen","version"}],"leader":NAME,"lease_expires":<unix time>}
inline handled show(call& c) {
  json::value v = c.ctx.backend.cluster_json();
  if (v.is_null()) return c.error(404, "cluster status is not available");
  return c.json(200, v);
}

}  // namespace heartbeat::api::handlers::cluster
