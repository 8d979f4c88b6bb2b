// Handlers of /api/0/hosts/{h}/plugins: the latest sample of every plugin, and one plugin's history
// (?limit=&since=&until=; beyond the in-memory ring from the store, answered later on the io
// thread). routes.hpp checks that the caller holds a role on the host.
#pragma once

#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "heartbeat/api/request.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::api::handlers::plugins {

// GET /api/0/hosts/{h}/plugins: {"hostname","plugins":{"<p>":{"timestamp","data","sample_count"}}}.
inline handled list(call& c) {
  return c.json(200,
                json::value::object({{"hostname", c.host}, {"plugins", c.ctx.backend.plugins_json(c.host)}}));
}

// GET /api/0/hosts/{h}/plugins/{p}: {"hostname","plugin","samples":[newest first],"sample_count"}.
inline handled history(call& c) {
  std::string plugin = c.param("plugin");
  std::size_t limit = 10;
  auto qp = c.query();
  if (!qp) return c.error(400, "malformed query string");
  if (qp->has("limit")) {
    auto l = detail::parse_limit(qp->get_param("limit").value_or(""), 10000);
    if (!l) return c.error(400, "limit must be a positive integer");
    limit = *l;
  }
  // ?since=&until=: Unix seconds (fractions allowed), both optional and inclusive.
  double since = 0, until = std::numeric_limits<double>::max();
  for (auto [key, out] : {std::pair{"since", &since}, std::pair{"until", &until}}) {
    if (!qp->has(key)) continue;
    auto t = detail::parse_time(qp->get_param(key).value_or(""));
    if (!t) return c.error(400, std::string(key) + " must be a Unix time in seconds");
    *out = *t;
  }
  if (since > until) return c.error(400, "since must not be after until");
  std::weak_ptr<int> alive = c.ctx.alive;
  c.ctx.backend.plugin_history_range(
      c.host, plugin, since, until, limit,
      [&ctx = c.ctx, alive, req = c.req, host = c.host, plugin](result<json::value> r) {
        if (alive.expired()) return;
        try {
          if (!r) {
            if (r.err().code == "not_found")
              ctx.reply_error(req, 404, "Plugin '" + plugin + "' not found for host '" + host + "'");
            else
              ctx.reply_error(req, 500, r.err().message);
            return;
          }
          std::size_t n = r->size();
          ctx.reply_json(
              req, 200,
              json::value::object(
                  {{"hostname", host}, {"plugin", plugin}, {"samples", std::move(*r)}, {"sample_count", n}}));
        } catch (const std::exception& ex) {
          log::error("api: history reply: ", ex.what());
        }
      });
  return restinio::request_accepted();
}

}  // namespace heartbeat::api::handlers::plugins
