// Handlers of active checks, services, duty rotas and the public status pages (docs/CHECKS.md):
// the lists and single entries a user may see, running a check now and acknowledging its alert
// (manager of its host or service), and /status/{service} without login for services with
// `status_page: true`. Run on the io thread; routes.hpp checks sessions.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "heartbeat/api/handlers/pages.hpp"
#include "heartbeat/api/request.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::api::handlers::checks {

// The caller as the backend wants them: nullptr for open mode and admins (who see everything).
inline const user* audience(const call& c) { return c.p.open || c.ctx.is_admin(c.p) ? nullptr : c.p.who; }

inline handled not_here(call& c, std::string_view what, const std::string& name) {
  return c.error(404, std::string(what) + " '" + name + "' not found");
}

// GET /api/0/checks
inline handled list(call& c) {
  json::value v = c.ctx.backend.checks_json(audience(c));
  return v.is_null() ? c.json(200, json::value::object({{"checks", json::value::array()}})) : c.json(200, v);
}

// GET /api/0/checks/{name}: the entry plus `history` (recent results, oldest first) and `metrics`.
inline handled get(call& c) {
  std::string name = c.param("name");
  json::value v = c.ctx.backend.check_json(name, audience(c));
  return v.is_null() ? not_here(c, "Check", name) : c.json(200, v);
}

// POST /api/0/checks/{name}/run: runs it now and answers the run's result.
inline handled run(call& c) {
  std::string name = c.param("name");
  context& ctx = c.ctx;
  std::string by = who(c.p);
  ctx.backend.run_check(
      name, audience(c),
      [&ctx, alive = std::weak_ptr<int>(ctx.alive), req = c.req, name, by](result<json::value> r) {
        if (alive.expired()) return;
        if (!r) {
          if (r.err().code == "forbidden") return (void)ctx.reply_error(req, 403, r.err().message);
          if (r.err().code == "not_found")
            return (void)ctx.reply_error(req, 404, "Check '" + name + "' not found");
          return (void)ctx.backend_error(req, r.err());
        }
        log::info("api: check '", name, "' run by ", by);
        ctx.reply_json(req, 200, *r);
      });
  return restinio::request_accepted();
}

// POST /api/0/checks/{name}/ack: acknowledges the check's alert (reminders stop until it changes).
inline handled ack(call& c) {
  std::string name = c.param("name");
  auto r = c.ctx.backend.ack_check(name, audience(c), actor_name(c.p));
  if (!r) {
    if (r.err().code == "forbidden") return c.error(403, r.err().message);
    if (r.err().code == "not_found") return not_here(c, "Check", name);
    return c.ctx.backend_error(c.req, r.err());
  }
  log::info("api: check '", name, "' acknowledged by ", who(c.p));
  return c.json(200, *r);
}

// GET /api/0/services
inline handled services(call& c) {
  json::value v = c.ctx.backend.services_json(audience(c));
  return v.is_null() ? c.json(200, json::value::object({{"services", json::value::array()}}))
                     : c.json(200, v);
}

// GET /api/0/services/{name}: the entry plus `check_details` and `host_states`.
inline handled service(call& c) {
  std::string name = c.param("name");
  json::value v = c.ctx.backend.service_json(name, audience(c));
  return v.is_null() ? not_here(c, "Service", name) : c.json(200, v);
}

// GET /api/0/rotas
inline handled rotas(call& c) {
  json::value v = c.ctx.backend.rotas_json(audience(c));
  return v.is_null() ? c.json(200, json::value::object({{"rotas", json::value::array()}})) : c.json(200, v);
}

// GET /api/0/status/{service}: public, names and states only.
inline handled status_json(call& c) {
  std::string name = c.param("service");
  json::value v = c.ctx.backend.status_json(name);
  return v.is_null() ? c.error(404, "no status page here") : c.json(200, v);
}

// GET /status/{service}: the public page (status.html reads /api/0/status/{service}).
inline handled status_page(call& c) {
  if (c.ctx.backend.status_json(c.param("service")).is_null()) return c.error(404, "no status page here");
  return pages::send_page(c, "status.html");
}

}  // namespace heartbeat::api::handlers::checks
