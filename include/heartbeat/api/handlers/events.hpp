// Handler of /api/0/events: "why was I (not) notified?" — every alert transition and
// notification outcome from the store's event log, filtered by host, metric, kind, result and
// time, newest first, and by the caller's roles (events of hosts they hold a role on; events
// about no host for admins only). Answered later on the io thread (the store's reader thread
// runs the query).
#pragma once

#include <array>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "heartbeat/api/request.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::api::handlers::events {

inline constexpr std::array<std::string_view, 9> kinds = {"alert",           "reminder", "acknowledged",
                                                          "host_down",       "host_up",  "host_stopped",
                                                          "channel_failure", "digest",   "partition"};
inline constexpr std::array<std::string_view, 11> results = {
    "notify",    "silent",  "suppressed", "sent",      "retried",       "failed",
    "fell_back", "dropped", "escalated",  "partition", "partition_over"};

template <std::size_t N>
std::string one_of(const std::array<std::string_view, N>& words) {
  std::string s;
  for (auto w : words) s += (s.empty() ? "" : ", ") + std::string(w);
  return s;
}

// GET /api/0/events?host=&metric=&kind=&result=&since=&until=&limit= (limit 100 by default, at
// most 1000): {"events": [{"id","time","source","host","metric_path","kind","result","reason",
// "text","level",...}], "count"}.
inline handled list(call& c) {
  auto qp = c.query();
  if (!qp) return c.error(400, "malformed query string");
  server::event_query q;
  auto text = [&](const char* key, std::string& out) {
    if (qp->has(key)) out = std::string(qp->get_param(key).value_or(""));
  };
  text("host", q.host);
  text("metric", q.metric);
  text("kind", q.kind);
  text("result", q.result);
  auto known = [](const auto& words, const std::string& v) {
    for (auto w : words)
      if (w == v) return true;
    return false;
  };
  if (!q.kind.empty() && !known(kinds, q.kind)) return c.error(400, "kind must be one of " + one_of(kinds));
  if (!q.result.empty() && !known(results, q.result))
    return c.error(400, "result must be one of " + one_of(results));
  if (qp->has("limit")) {
    auto l = detail::parse_limit(qp->get_param("limit").value_or(""), 1000);
    if (!l) return c.error(400, "limit must be a positive integer");
    q.limit = *l;
  }
  for (auto [key, out] : {std::pair{"since", &q.since}, std::pair{"until", &q.until}}) {
    if (!qp->has(key)) continue;
    auto t = detail::parse_time(qp->get_param(key).value_or(""));
    if (!t) return c.error(400, std::string(key) + " must be a Unix time in seconds");
    *out = *t;
  }
  if (q.since > q.until) return c.error(400, "since must not be after until");
  if (!c.ctx.is_admin(c.p)) {
    // As /api/0/hosts/{h}: a host the caller holds no role on does not exist for them.
    if (!q.host.empty() && (!c.ctx.backend.has_host(q.host) || c.ctx.role_of(c.p, q.host) == role::none))
      return c.error(404, "Host '" + q.host + "' not found");
    auto mine = std::make_shared<std::unordered_set<std::string>>();
    for (const auto& name : c.ctx.backend.host_names())
      if (c.ctx.role_of(c.p, name) != role::none) mine->insert(name);
    q.visible = std::move(mine);
  }
  std::weak_ptr<int> alive = c.ctx.alive;
  c.ctx.backend.events(q, [&ctx = c.ctx, alive, req = c.req](result<json::value> r) {
    if (alive.expired()) return;
    try {
      if (!r)
        ctx.backend_error(req, r.err());
      else
        ctx.reply_json(req, 200, *r);
    } catch (const std::exception& ex) {
      log::error("api: events reply: ", ex.what());
    }
  });
  return restinio::request_accepted();
}

}  // namespace heartbeat::api::handlers::events
