// hbd's whole configuration: the server's keys (server/config.hpp) plus the
// sections other parts own and validate with their own loaders (thresholds and
// maintenance: alert/rules.hpp; notifiers: notify/settings.hpp). The one place
// that knows every top-level key, so unknown ones warn. Main thread at start-up
// and for `hbd check-config`, io thread when SIGHUP reloads the file.
#pragma once

#include <string>

#include "heartbeat/alert/rules.hpp"
#include "heartbeat/config/file.hpp"
#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/notify/settings.hpp"
#include "heartbeat/server/cluster_config.hpp"
#include "heartbeat/server/config.hpp"

namespace heartbeat::hbd {

namespace cfg = heartbeat::config;
using config = server::config;

// Reads and validates every section of `root`; problems go to `diag` with their
// key path. Returns a config with defaults for every key that is absent or wrong.
inline config load_config(const json::value& root, cfg::diagnostics& diag) {
  cfg::object_reader r(root, "", diag);
  config c = server::read_server_config(r, diag);
  c.root = root.is_object() ? root : json::value::object();
  // Thresholds, profiles and maintenance windows, with their key paths (the app compiles
  // them again to run).
  r.known({"thresholds", "threshold_configs", "threshold_renotify_interval", "threshold_missing_after",
           "maintenance"});
  (void)alert::compile_rules(root, diag);
  // Notifiers, pushsrv, the delivery policy and the users' notification keys.
  r.known({"notifiers", "pushsrv", "notify"});
  (void)notify::load_config(root, diag);
  // Several nodes on PostgreSQL: the store's connection string and the cluster section.
  r.known({"store", "cluster"});
  (void)server::read_cluster_settings(root, diag);
  r.finish();
  return c;
}

// Reads a file (YAML or JSON) and loads it; an unreadable or unparsable file is
// one diagnostic at the top level.
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
  return c;
}

}  // namespace heartbeat::hbd
