// The server's keys of the effective configuration: every key of server::config with the value in
// force (defaults filled in, durations in seconds), as `hbd --print-config` and GET /api/0/config
// show them (hbd/config.hpp composes the whole; secrets are masked there). Main thread or io thread.
#pragma once

#include <string>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/server/config.hpp"

namespace heartbeat::server {

namespace detail {
inline json::value string_list(const std::vector<std::string>& v) {
  json::value a = json::value::array();
  for (const auto& s : v) a.push_back(json::value(s));
  return a;
}
}  // namespace detail

// hosts.<name> with every key in force; `key` only when one is set (it is then masked). `raw` is
// the host's mapping as written: keys other parts read (e.g. `escalation`: notify/escalation.hpp)
// are kept as they are.
inline json::value host_config_json(const host_config& h, const json::value* raw = nullptr) {
  json::value o = raw && raw->is_object() ? *raw : json::value::object();
  if (!h.key.empty())
    o.set("key", h.key);
  else
    o.erase("key");
  o.set("watch", h.watch);
  o.set("dyn", h.dyn);
  o.set("threshold_config", detail::string_list(h.threshold_config));
  o.set("owner", h.owner);
  o.set("managers", detail::string_list(h.managers));
  o.set("monitors", detail::string_list(h.monitors));
  return o;
}

// Sets every server key of `c` in `out` (a mapping that may already hold the file's keys).
inline void add_config_json(const config& c, json::value& out) {
  out.set("hb_port", c.hb_port);
  out.set("hb_host", c.hb_host);
  out.set("udp_rcvbuf", c.udp_rcvbuf);
  out.set("hbd_port", c.hbd_port);
  out.set("hbd_host", c.hbd_host);
  out.set("ws_port", c.ws_port);
  out.set("wss_port", c.wss_port);
  out.set("cert_path", c.cert_path);
  out.set("wss_pem", c.wss_pem);
  out.set("wss_key", c.wss_key);

  out.set("interval", c.interval);
  out.set("grace", c.grace);
  out.set("command_ttl", c.command_ttl);

  out.set("max_message_bytes", static_cast<double>(c.max_message_bytes));
  out.set("require_auth", c.require_auth);
  out.set("auth_window", c.auth_window);

  out.set("history_samples", static_cast<double>(c.history_samples));
  out.set("history_memory", static_cast<double>(c.history_memory));
  out.set("history_retention", c.history_retention);
  out.set("state_db", c.state_db);
  out.erase("pickfile");  // state_db's old name

  out.set("journal_enabled", c.journal_enabled);
  out.set("journal_dir", c.journal_dir);
  out.set("journal_file", c.journal_file);
  out.set("journal_max_size", static_cast<double>(c.journal_max_size));
  out.set("journal_max_backups", c.journal_max_backups);

  out.set("dyndomains", detail::string_list(c.dyndomains));
  out.set("nsupdate_bin", c.nsupdate_bin);
  out.set("nsupdate_key", c.nsupdate_key);
  out.set("nsupdate_server", c.nsupdate_server);
  out.set("nsupdate_port", c.nsupdate_port);
  out.set("nsupdate_timeout", c.nsupdate_timeout);
  out.set("dns_ttl", c.dns_ttl);

  out.set("logfile", c.logfile);
  out.set("web_dir", c.web_dir.empty() ? c.templates_dir : c.web_dir);
  out.erase("templates_dir");  // web_dir's alias

  // Users as written (their other keys are per-user notification settings), with the defaults.
  json::value users = json::value::object();
  for (const auto& [name, u] : c.users) {
    json::value o = u.raw.is_object() ? u.raw : json::value::object();
    o.set("admin", u.admin);
    o.set("notification_channels", detail::string_list(u.notification_channels));
    users.set(name, std::move(o));
  }
  out.set("users", std::move(users));
  out.set("default_owner", c.effective_default_owner());
  out.set("cors_origins", detail::string_list(c.cors_origins));
  out.set("session_ttl", c.session_ttl);

  json::value hosts = json::value::object();
  const json::value* written = c.root.is_object() ? c.root.find("hosts") : nullptr;
  for (const auto& [name, h] : c.hosts)
    hosts.set(name, host_config_json(h, written && written->is_object() ? written->find(name) : nullptr));
  out.set("hosts", std::move(hosts));
}

}  // namespace heartbeat::server
