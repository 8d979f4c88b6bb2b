// Handlers of /api/0/hosts: the list (cached, gzip, pages with ?limit=&offset=, filtered and sorted
// pages with ?q=&state=&role=&sort=&order=), one host, dropping a host, and who holds which role on
// it (access). Run on the io thread; routes.hpp checks roles.
#pragma once

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/api/host_query.hpp"
#include "heartbeat/api/request.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::api::handlers::hosts {

// Whether the request asks for a filtered or sorted page (any of the parameters beyond paging).
inline bool is_host_query(const restinio::query_string_params_t& qp) {
  for (auto k : {"q", "state", "role", "sort", "order"})
    if (qp.has(k)) return true;
  return false;
}

// Reads ?q=&state=&role=&sort=&order= (api/host_query.hpp); an error message when a value is unknown.
inline std::optional<std::string> read_host_query(const restinio::query_string_params_t& qp, host_query& q) {
  auto get = [&](const char* k) { return std::string_view(qp.get_param(k).value_or("")); };
  for (char ch : get("q")) q.q.push_back(ascii_lower(ch));
  if (qp.has("state")) {
    auto st = parse_query_state(get("state"));
    if (!st) return "state must be one of UP, LATE, DOWN, STOPPED, UNKNOWN";
    q.state = *st;
  }
  if (qp.has("role")) {
    auto r = parse_query_role(get("role"));
    if (!r) return "role must be one of monitor, manager, owner";
    q.at_least = *r;
  }
  if (qp.has("sort")) {
    auto s = parse_host_sort(get("sort"));
    if (!s) return "sort must be one of name, state, ipv4, ipv6, rtt, loss, last_seen";
    q.sort = *s;
  }
  if (qp.has("order")) {
    if (get("order") != "asc" && get("order") != "desc") return "order must be asc or desc";
    q.desc = get("order") == "desc";
  }
  return std::nullopt;
}

// GET /api/0/hosts: the hosts the caller holds a role on, by name. ?limit=&offset= gives one page
// of that list with the whole count in X-Total-Count; ?q=&state=&role=&sort=&order= filter and
// order it, adding the counts by state in X-State-Counts; without any the list comes from the cache.
inline handled list(call& c) {
  const user* audience = c.p.open || c.ctx.is_admin(c.p) ? nullptr : c.p.who;
  auto qp = c.query();
  if (!qp) return c.error(400, "malformed query string");
  const bool query = is_host_query(*qp);
  if (query || qp->has("limit") || qp->has("offset")) {
    std::size_t limit = std::numeric_limits<std::size_t>::max(), offset = 0;
    if (qp->has("limit")) {
      auto l = detail::parse_limit(qp->get_param("limit").value_or(""), 1000000);
      if (!l) return c.error(400, "limit must be a positive integer");
      limit = *l;
    }
    if (qp->has("offset")) {
      auto o = detail::parse_count(qp->get_param("offset").value_or(""));
      if (!o) return c.error(400, "offset must be a non-negative integer");
      offset = *o;
    }
    auto page = std::make_shared<std::string>();
    if (!query) {
      std::size_t total = c.ctx.backend.write_hosts_page(*page, audience, offset, limit);
      return c.ctx.reply_shared(c.req, std::move(page), false, {{"X-Total-Count", std::to_string(total)}});
    }
    host_query q;
    q.offset = offset;
    q.limit = limit;
    if (auto bad = read_host_query(*qp, q)) return c.error(400, *bad);
    host_query_result r;
    c.ctx.backend.write_hosts_query(*page, audience, q, r);
    return c.ctx.reply_shared(
        c.req, std::move(page), false,
        {{"X-Total-Count", std::to_string(r.total)}, {"X-State-Counts", state_counts_header(r)}});
  }
  std::string ae = c.req->header().get_field_or(restinio::http_field::accept_encoding, "");
  auto a = c.ctx.hosts.get(c.ctx.backend, audience, ae.find("gzip") != std::string::npos, clock::mono_now());
  return c.ctx.reply_shared(c.req, std::move(a.body), a.gzipped);
}

// GET /api/0/hosts/{h}: the host's entry of the list.
inline handled get(call& c) {
  std::string out;
  c.ctx.backend.write_host_json(out, c.host);
  return c.ctx.reply(c.req, 200, std::move(out), "application/json");
}

// DELETE /api/0/hosts/{h}: forgets the host (it comes back with its next heartbeat).
inline handled drop(call& c) {
  auto res = c.ctx.backend.drop_host(c.host);
  if (!res) return c.ctx.backend_error(c.req, res.err());
  log::info("api: host '", c.host, "' dropped by ", who(c.p));
  return c.json(200, json::value::object({{"status", "dropped"}, {"hostname", c.host}}));
}

inline json::value access_json(const host_access& a, const std::string& host) {
  json::value out =
      json::value::object({{"owner", a.owner.empty() ? json::value(nullptr) : json::value(a.owner)},
                           {"managers", api::detail::string_array(a.managers)},
                           {"monitors", api::detail::string_array(a.monitors)}});
  out.set("hostname", host);
  return out;
}

// Reads a list of user names from a JSON member; false when it is not a list of user names.
inline bool read_names(const json::value& body, std::string_view key, std::vector<std::string>& out) {
  const json::value* v = body.find(key);
  if (!v || v->is_null()) return true;
  if (!v->is_array()) return false;
  for (const auto& e : v->as_array()) {
    if (!e.is_string() || !valid_user_name(e.as_string())) return false;
    out.push_back(e.as_string());
  }
  return true;
}

// GET /api/0/hosts/{h}/access: {"owner","managers","monitors","hostname"}.
inline handled access(call& c) { return c.json(200, access_json(c.ctx.backend.access(c.host), c.host)); }

// PUT /api/0/hosts/{h}/access: any of "owner" (a user name or null), "managers", "monitors".
inline handled set_access(call& c) {
  auto body = c.ctx.parse_body(c.req);
  if (!body) return c.ctx.body_error(c.req, body.err());
  host_access next = c.ctx.backend.access(c.host);
  if (const json::value* o = body->find("owner")) {
    if (o->is_null())
      next.owner.clear();
    else if (!o->is_string() || !valid_user_name(o->as_string()))
      return c.error(400, "\"owner\" must be a user name or null");
    else
      next.owner = o->as_string();
  }
  if (body->find("managers")) {
    next.managers.clear();
    if (!read_names(*body, "managers", next.managers))
      return c.error(400, "\"managers\" must be a list of user names");
  }
  if (body->find("monitors")) {
    next.monitors.clear();
    if (!read_names(*body, "monitors", next.monitors))
      return c.error(400, "\"monitors\" must be a list of user names");
  }
  if (c.ctx.users.enabled()) {
    auto known = [&](const std::string& n) { return c.ctx.users.find(n) != nullptr; };
    if (!next.owner.empty() && !known(next.owner)) return c.error(400, "unknown user '" + next.owner + "'");
    for (const auto* l : {&next.managers, &next.monitors})
      for (const auto& n : *l)
        if (!known(n)) return c.error(400, "unknown user '" + n + "'");
  }
  c.ctx.hosts.expire();
  auto res = c.ctx.backend.set_access(c.host, next);
  if (!res) return c.ctx.backend_error(c.req, res.err());
  log::info("api: access of '", c.host, "' changed by ", who(c.p));
  return c.json(200, access_json(c.ctx.backend.access(c.host), c.host));
}

}  // namespace heartbeat::api::handlers::hosts
