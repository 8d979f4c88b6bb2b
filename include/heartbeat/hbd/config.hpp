// hbd's whole configuration: the server's keys (server/config.hpp) plus the
// sections other parts own and validate with their own loaders (thresholds and
// maintenance: alert/rules.hpp; notifiers: notify/settings.hpp; checks, services and
// rotas: checks/config.hpp). The one place that knows every top-level key, so
// unknown ones warn; and the effective configuration shown by `hbd --print-config`
// and the API. Main thread at start-up
// and for `hbd check-config`, io thread when SIGHUP reloads the file.
#pragma once

#include <filesystem>
#include <string>
#include <utility>

#include "heartbeat/alert/rules.hpp"
#include "heartbeat/alert/tz_database.hpp"
#include "heartbeat/api/guard.hpp"
#include "heartbeat/api/settings.hpp"
#include "heartbeat/checks/config.hpp"
#include "heartbeat/config/file.hpp"
#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/notify/settings.hpp"
#include "heartbeat/remote_write/config.hpp"
#include "heartbeat/server/cluster_config.hpp"
#include "heartbeat/server/config.hpp"
#include "heartbeat/server/config_json.hpp"

namespace heartbeat::hbd {

namespace cfg = heartbeat::config;
using config = server::config;

// Reads and validates every section of `root`; problems go to `diag` with their
// key path. Returns a config with defaults for every key that is absent or wrong.
inline config load_config(const json::value& root, cfg::diagnostics& diag) {
  cfg::object_reader r(root, "", diag);
  config c = server::read_server_config(r, diag);
  c.root = root.is_object() ? root : json::value::object();
  // Host admission and the HTTP side's limits (docs/SECURITY.md).
  c.admission = server::read_admission_config(r);
  (void)api::read_http_guard(r);
  // Thresholds, profiles and maintenance windows, with their key paths (the app compiles
  // them again to run).
  r.known({"thresholds", "threshold_configs", "threshold_renotify_interval", "threshold_missing_after",
           "maintenance"});
  (void)alert::compile_rules(root, diag);
  // Notifiers, pushsrv, the delivery policy and the users' notification keys.
  r.known({"notifiers", "pushsrv", "notify"});
  // Reminder backoff and time zones (compile_rules), escalation ladders and partition detection
  // (notify::load_config): docs/ALERTING.md.
  r.known({"threshold_renotify_backoff", "threshold_renotify_max", "timezone", "escalations",
           "escalation_default", "partition"});
  (void)notify::load_config(root, diag);
  // Active checks, services and duty rotas (docs/CHECKS.md).
  r.known({"checks", "services", "rotas"});
  (void)checks::load_checks_config(root, diag);
  // Remote write targets (remote_write/config.hpp).
  r.known({"remote_write"});
  (void)remote_write::load_config(root, diag);
  // Several nodes on PostgreSQL: the store's connection string and the cluster section.
  r.known({"store", "cluster"});
  (void)server::read_cluster_settings(root, diag);
  r.finish();
  return c;
}

// Relative paths in a config file name places beside the file, not in the working directory
// (which is / once hbd runs as a daemon): state_db, journal_dir, cert_path, templates_dir,
// web_dir, logfile and nsupdate_key.
inline void resolve_relative_paths(config& c, const std::string& file) {
  const std::filesystem::path dir = std::filesystem::path(file).parent_path();
  for (std::string* p :
       {&c.state_db, &c.journal_dir, &c.cert_path, &c.templates_dir, &c.web_dir, &c.logfile, &c.nsupdate_key})
    if (!p->empty() && p->front() != '/') *p = (dir / *p).lexically_normal().string();
}

// Reads a file (YAML or JSON) and loads it; an unreadable or unparsable file is
// one diagnostic at the top level. Relative paths resolve against the file's folder.
inline config load_config_file(const std::string& path, cfg::diagnostics& diag) {
  auto tree = cfg::load_file(path);
  if (!tree) {
    diag.error("", tree.err().message);
    config c;
    c.source = path;
    return c;
  }
  config c = load_config(*tree, diag);
  c.source = path;
  resolve_relative_paths(c, path);
  return c;
}

// The configuration in force, as `hbd --print-config` and GET /api/0/config show it (secrets are
// masked by the caller, redact_secrets): the file's sections as written, overlaid with every key
// a part knows and its value in force, defaults filled in. A part with typed settings adds its
// keys here, one line each (docs/CONFIG.md "Adding a key").
inline json::value effective_config(const config& c) {
  json::value out = c.root.is_object() ? c.root : json::value::object();
  auto section = [&out](const char* key, json::value empty) {
    if (!out.contains(key)) out.set(key, std::move(empty));
  };
  cfg::diagnostics checked;  // the file was checked when it was loaded
  server::add_config_json(c, out);
  out.set("web_dir", api::resolve_web_dir(c.web_dir.empty() ? c.templates_dir : c.web_dir));
  // Host admission and the HTTP side's limits (server/admission.hpp, api/guard.hpp).
  out.set("accept_hosts", server::to_string(c.admission.accept_hosts));
  out.set("max_hosts", static_cast<double>(c.admission.max_hosts));
  out.set("max_new_hosts_per_minute", c.admission.max_new_hosts_per_minute);
  out.set("max_plugins_per_host", static_cast<double>(c.admission.max_plugins_per_host));
  const api::http_guard_config guard = api::read_http_guard(c.root);
  out.set("http_hosts", server::detail::string_list(guard.http_hosts));
  out.set("trusted_proxies", server::detail::string_list(guard.trusted_proxies));
  out.set("http_max_connections", static_cast<double>(guard.max_connections));
  out.set("http_max_connections_per_ip", static_cast<double>(guard.max_connections_per_ip));
  out.set("http_max_body", static_cast<double>(guard.max_body));
  out.set("http_header_timeout", guard.header_timeout);
  // Alerting (alert/rules.hpp).
  alert::ruleset rules = alert::compile_rules(c.root, checked);
  out.set("threshold_renotify_interval", rules.renotify_interval);
  out.set("threshold_missing_after", rules.missing_after);
  section("thresholds", json::value::object());
  section("threshold_configs", json::value::object());
  section("maintenance", json::value::array());
  out.set("threshold_renotify_backoff", rules.renotify_backoff);
  out.set("threshold_renotify_max", rules.renotify_max);
  const alert::time_zone tz = alert::server_time_zone(c.root);
  out.set("timezone", tz.is_utc() ? std::string("UTC") : tz.name());
  // Notifications (notify/settings.hpp).
  notify::settings n = notify::load_config(c.root, checked);
  section("notifiers", json::value::object());
  out.set("pushsrv", n.pushsrv.empty() ? std::string("all") : n.pushsrv);
  json::value policy = json::value::object();
  policy.set("dedup_window", n.policy.dedup_window);
  policy.set("rate_limit_count", n.policy.rate_limit_count);
  policy.set("rate_limit_window", n.policy.rate_limit_window);
  policy.set("retry_attempts", n.policy.retry_attempts);
  policy.set("retry_initial", n.policy.retry_initial);
  policy.set("retry_max", n.policy.retry_max);
  policy.set("channel_alert_interval", n.policy.channel_alert_interval);
  policy.set("digest_max_lines", n.policy.digest_max_lines);
  policy.set("queue_size", static_cast<double>(n.policy.queue_size));
  out.set("notify", std::move(policy));
  // Escalation ladders (none: notifications follow the hosts' roles) and partition detection.
  section("escalations", json::value::object());
  section("escalation_default", json::value());
  json::value partition = json::value::object();
  partition.set("threshold", n.partition.threshold);
  partition.set("min_hosts", static_cast<double>(n.partition.min_hosts));
  partition.set("window", n.partition.window);
  partition.set("canaries", server::detail::string_list(n.partition.canaries));
  out.set("partition", std::move(partition));
  // Active checks, services and duty rotas (checks/config.hpp); remote write targets.
  section("checks", json::value::object());
  section("services", json::value::object());
  section("rotas", json::value::object());
  section("remote_write", json::value::array());
  // The store (empty: SQLite at state_db) and this node of a cluster (server/cluster_config.hpp).
  const server::cluster_settings cluster = server::cluster_settings_of(c.root);
  out.set("store", cluster.store);
  json::value node = json::value::object();
  node.set("node", cluster.node);
  node.set("lease", cluster.lease);
  out.set("cluster", std::move(node));
  return out;
}

}  // namespace heartbeat::hbd
