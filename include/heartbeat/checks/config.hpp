// The `checks`, `services` and `rotas` sections (docs/CHECKS.md): read into immutable
// definitions with every problem reported by key path (check-config exits 2 on errors). Runs on
// the thread that loads the configuration; the result is handed to the io thread.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/alert/maintenance_config.hpp"
#include "heartbeat/checks/check.hpp"
#include "heartbeat/checks/rota.hpp"
#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::checks {

struct service_def {
  std::string name;
  std::vector<std::string> checks;
  std::vector<std::string> hosts;  // instances: a DOWN host fails the service too
  std::vector<std::string> users;  // always told
  std::string rota;                // and whoever is on duty there
  std::string escalation;          // the escalation ladder of its checks' alerts (`escalations`)
  bool status_page = false;        // a public page at /status/<name>
};

struct checks_config {
  std::vector<std::shared_ptr<const check_def>> checks;  // by name
  std::vector<service_def> services;                     // by name
  std::vector<rota> rotas;                               // by name

  const check_def* find_check(std::string_view n) const {
    for (const auto& c : checks)
      if (c->name == n) return c.get();
    return nullptr;
  }
  const service_def* find_service(std::string_view n) const {
    for (const auto& s : services)
      if (s.name == n) return &s;
    return nullptr;
  }
  const rota* find_rota(std::string_view n) const {
    for (const auto& r : rotas)
      if (r.name == n) return &r;
    return nullptr;
  }
  // The services listing a check, by name.
  std::vector<std::string> services_of(std::string_view check) const {
    std::vector<std::string> out;
    for (const auto& s : services)
      if (std::find(s.checks.begin(), s.checks.end(), check) != s.checks.end()) out.push_back(s.name);
    return out;
  }
};

namespace detail {

// Check, service and rota names: letters, digits, '.', '-', '_' (they appear in URLs and metric paths).
inline bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 128) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-' || c == '_'))
      return false;
  return true;
}

inline std::shared_ptr<const check_def> read_check(const std::string& name, const json::value& node,
                                                   config::diagnostics& d) {
  const std::string path = "checks." + name;
  config::object_reader r(node, path, d);
  if (!node.is_object()) return nullptr;
  const std::size_t before = d.items.size();
  auto def = std::make_shared<check_def>();
  def->name = name;
  def->raw = node;
  std::string type;
  r.get("type", type);
  if (type.empty()) d.error(r.key_path("type"), "is required (" + type_list() + ")");
  r.get_duration("interval", def->interval);
  if (def->interval < 1) d.error(r.key_path("interval"), "must be at least 1 second");
  const bool timeout_given = r.has("timeout");
  def->timeout = std::min(10.0, def->interval);  // default: 10 s, or the interval when shorter
  r.get_duration("timeout", def->timeout);
  if (def->timeout <= 0 || def->timeout > 3600)
    d.error(r.key_path("timeout"), "must be between 0 and 3600 seconds");
  r.get("retries", def->retries, 0, 100);
  std::string level = "CRITICAL";
  r.get_enum("level", level, {"WARNING", "CRITICAL"});
  def->level = level == "WARNING" ? alert::level::warning : alert::level::critical;
  r.get("host", def->host);
  std::optional<any_check> impl;
  if (!type.empty()) {
    bool known = false;
    impl = read_type(type, r, known);
    if (!known) d.error(r.key_path("type"), "unknown check type \"" + type + "\" (" + type_list() + ")");
  }
  r.finish();
  if (timeout_given && def->timeout > def->interval && !errors_since(d, before))
    d.warn(r.key_path("timeout"), "is longer than the interval: a run still going skips the next one");
  if (!impl || errors_since(d, before)) return nullptr;
  def->impl = std::move(*impl);
  return def;
}

// A rota without its own `timezone` keeps the server-wide one (`server_tz`).
inline std::optional<rota> read_rota(const std::string& name, const json::value& node, config::diagnostics& d,
                                     const alert::time_zone& server_tz) {
  const std::string path = "rotas." + name;
  config::object_reader r(node, path, d);
  if (!node.is_object()) return std::nullopt;
  const std::size_t before = d.items.size();
  rota ro;
  ro.name = name;
  r.get("users", ro.users);
  if (ro.users.empty()) d.error(r.key_path("users"), "needs at least one user");
  r.get_duration("shift", ro.shift);
  if (ro.shift < 60) d.error(r.key_path("shift"), "must be at least 60 seconds (e.g. 12h, 7d)");
  std::string tzname;
  r.get("timezone", tzname);
  if (tzname.empty())
    ro.tz = server_tz;
  else if (auto z = alert::time_zone::locate(tzname))
    ro.tz = *z;
  else
    d.error(r.key_path("timezone"), z.err().message);
  if (const json::value* s = r.raw("start")) {
    if (auto t = parse_local_time(*s, ro.tz)) {
      ro.start = *t;
      ro.start_local = ro.tz.to_local(ro.start);
    } else {
      d.error(r.key_path("start"), "must be a local time like \"2026-12-07T09:00:00\"");
    }
  } else {
    d.error(r.key_path("start"), "is required: when the first shift starts, local time in `timezone`");
  }
  if (const json::value* ov = r.raw("overrides")) {
    if (!ov->is_array()) d.error(r.key_path("overrides"), "must be a list of {user, from, to}");
    std::size_t i = 0;
    for (const auto& o : ov->as_array()) {
      config::object_reader orr(o, r.key_path("overrides") + "." + std::to_string(i++), d);
      rota_override x;
      orr.get("user", x.user);
      if (x.user.empty()) d.error(orr.key_path("user"), "is required");
      bool times_ok = true;
      for (auto [key, out] : {std::pair<const char*, double*>{"from", &x.from}, {"to", &x.to}}) {
        const json::value* v = orr.raw(key);
        auto t = v ? parse_local_time(*v, ro.tz) : std::nullopt;
        if (!t) {
          d.error(orr.key_path(key), "must be a local time like \"2026-12-24T00:00:00\"");
          times_ok = false;
        } else {
          *out = *t;
        }
      }
      if (times_ok && x.to <= x.from) d.error(orr.key_path("to"), "must be after `from`");
      orr.finish();
      ro.overrides.push_back(std::move(x));
    }
  }
  r.finish();
  if (errors_since(d, before)) return std::nullopt;
  return ro;
}

}  // namespace detail

// Reads the three sections of `root`. Definitions with errors are left out (the rest still run).
inline checks_config load_checks_config(const json::value& root, config::diagnostics& d) {
  checks_config out;
  auto section = [&](const char* key) -> const json::value* {
    const json::value* v = root.is_object() ? root.find(key) : nullptr;
    if (!v || v->is_null()) return nullptr;
    if (!v->is_object()) {
      d.error(key, "must be a mapping of names");
      return nullptr;
    }
    return v;
  };
  std::vector<std::string> all_checks;
  if (const json::value* cs = section("checks")) {
    for (const auto& [name, node] : cs->as_object()) {
      all_checks.push_back(name);
      if (!detail::valid_name(name)) {
        d.error("checks." + name, "a check name has only letters, digits, '.', '-' and '_'");
        continue;
      }
      if (auto def = detail::read_check(name, node, d)) out.checks.push_back(std::move(def));
    }
  }
  if (const json::value* rs = section("rotas")) {
    const alert::time_zone server_tz = alert::server_time_zone(root);
    for (const auto& [name, node] : rs->as_object()) {
      if (!detail::valid_name(name)) {
        d.error("rotas." + name, "a rota name has only letters, digits, '.', '-' and '_'");
        continue;
      }
      if (auto ro = detail::read_rota(name, node, d, server_tz)) out.rotas.push_back(std::move(*ro));
    }
  }
  const json::value* users = root.is_object() ? root.find("users") : nullptr;
  auto warn_unknown_user = [&](const std::string& u, const std::string& path) {
    if (users && users->is_object() && !users->find(u)) d.warn(path, "no user \"" + u + "\" in `users`");
  };
  for (const auto& ro : out.rotas)
    for (std::size_t i = 0; i < ro.users.size(); ++i)
      warn_unknown_user(ro.users[i], "rotas." + ro.name + ".users." + std::to_string(i));
  if (const json::value* ss = section("services")) {
    for (const auto& [name, node] : ss->as_object()) {
      const std::string path = "services." + name;
      if (!detail::valid_name(name)) {
        d.error(path, "a service name has only letters, digits, '.', '-' and '_'");
        continue;
      }
      config::object_reader r(node, path, d);
      if (!node.is_object()) continue;
      service_def s;
      s.name = name;
      r.get("checks", s.checks);
      for (std::size_t i = 0; i < s.checks.size(); ++i)
        if (std::find(all_checks.begin(), all_checks.end(), s.checks[i]) == all_checks.end())
          d.error(r.key_path("checks") + "." + std::to_string(i),
                  "no check \"" + s.checks[i] + "\" in `checks`");
      r.get("hosts", s.hosts);
      r.get("users", s.users);
      for (std::size_t i = 0; i < s.users.size(); ++i)
        warn_unknown_user(s.users[i], r.key_path("users") + "." + std::to_string(i));
      r.get("rota", s.rota);
      if (!s.rota.empty() && !out.find_rota(s.rota)) {
        bool configured = false;
        if (const json::value* rs = root.find("rotas"); rs && rs->is_object()) configured = rs->find(s.rota);
        if (!configured) d.error(r.key_path("rota"), "no rota \"" + s.rota + "\" in `rotas`");
      }
      const bool escalation_given = r.has("escalation");
      r.get("escalation", s.escalation);
      if (escalation_given && s.escalation.empty()) {
        d.error(r.key_path("escalation"), "must be the name of an escalation ladder");
      } else if (!s.escalation.empty()) {
        const json::value* es = root.find("escalations");
        if (!es || !es->is_object() || !es->find(s.escalation)) {
          d.error(r.key_path("escalation"), "no escalation \"" + s.escalation + "\" in `escalations`");
          s.escalation.clear();
        }
      }
      r.get("status_page", s.status_page);
      r.finish();
      out.services.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace heartbeat::checks
