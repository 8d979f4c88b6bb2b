// Handlers that queue work for a host: a command for the client's allow-list, an upgrade, a DNS
// update. Run on the io thread; routes.hpp checks the manager role.
#pragma once

#include <string>
#include <vector>

#include "heartbeat/api/request.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::api::handlers::commands {

// POST /api/0/hosts/{h}/commands {"command","args":[strings]}: {"id","hostname","command","args","status"}.
inline handled queue(call& c) {
  auto body = c.ctx.parse_body(c.req);
  if (!body) return c.ctx.body_error(c.req, body.err());
  const json::value* cmd = body->find("command");
  if (!cmd || !cmd->is_string() || cmd->as_string().empty() || cmd->as_string().size() > 256)
    return c.error(400, "\"command\" (a non-empty string) is required");
  json::value args = json::value::array();
  std::vector<std::string> arg_list;
  if (const json::value* a = body->find("args")) {
    if (!a->is_array() && !a->is_null()) return c.error(400, "\"args\" must be a list of strings");
    if (a->is_array()) {
      if (a->size() > 64) return c.error(400, "\"args\": at most 64 arguments");
      for (const auto& x : a->as_array()) {
        if (!x.is_string()) return c.error(400, "\"args\" must be a list of strings");
        arg_list.push_back(x.as_string());
      }
      args = *a;
    }
  }
  auto id = c.ctx.backend.queue_command(c.host, cmd->as_string(), arg_list, actor_name(c.p));
  if (!id) return c.ctx.backend_error(c.req, id.err());
  log::info("api: command '", cmd->as_string(), "' queued for '", c.host, "' by ", who(c.p));
  return c.json(200, json::value::object({{"id", *id},
                                          {"hostname", c.host},
                                          {"command", cmd->as_string()},
                                          {"args", std::move(args)},
                                          {"status", "queued"}}));
}

// POST /api/0/hosts/{h}/upgrade {"version"} (optional): {"id","hostname","version","status"}.
inline handled upgrade(call& c) {
  auto body = c.ctx.parse_body(c.req);
  if (!body) return c.ctx.body_error(c.req, body.err());
  std::string version;
  if (const json::value* v = body->find("version")) {
    if (!v->is_string() && !v->is_null()) return c.error(400, "\"version\" must be a string");
    if (v->is_string()) version = v->as_string();
  }
  if (version.size() > 64) return c.error(400, "\"version\" too long");
  auto id = c.ctx.backend.queue_upgrade(c.host, version, actor_name(c.p));
  if (!id) return c.ctx.backend_error(c.req, id.err());
  log::info("api: upgrade queued for '", c.host, "' by ", who(c.p));
  return c.json(200, json::value::object(
                         {{"id", *id}, {"hostname", c.host}, {"version", version}, {"status", "queued"}}));
}

// POST /api/0/hosts/{h}/dns: {"hostname","status":"requested"}.
inline handled dns(call& c) {
  auto res = c.ctx.backend.request_dns(c.host);
  if (!res) return c.ctx.backend_error(c.req, res.err());
  return c.json(200, json::value::object({{"hostname", c.host}, {"status", "requested"}}));
}

}  // namespace heartbeat::api::handlers::commands
