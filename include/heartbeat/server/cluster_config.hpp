// The keys of several hbd nodes on one PostgreSQL: `store` (a libpq connection
// string; without it the SQLite store at state_db is used) and `cluster`
// ({node, lease}), read from the config tree with key-path diagnostics. Main
// thread at start-up and for `hbd check-config`; hbd's parts read it again from
// the effective config's tree.
#pragma once

#include <unistd.h>

#include <string>
#include <string_view>

#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/server/detail/pg.hpp"

namespace heartbeat::server {

struct cluster_settings {
  std::string store;  // libpq connection string; empty: the SQLite store (state_db)
  std::string node;   // this node's name (default: the host name)
  double lease = 10;  // seconds the leader's lease lasts without a renewal
  bool postgres() const noexcept { return !store.empty(); }
};

inline std::string local_host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "hbd";
  return buf;
}

inline bool valid_node_name(std::string_view n) noexcept {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  return true;
}

// Whether `s` names PostgreSQL: a postgresql:// or postgres:// URI, or key=value pairs.
inline bool looks_like_conninfo(std::string_view s) noexcept {
  return s.starts_with("postgresql://") || s.starts_with("postgres://") ||
         s.find('=') != std::string_view::npos;
}

inline cluster_settings read_cluster_settings(const json::value& root, config::diagnostics& d) {
  cluster_settings c;
  static const json::value empty = json::value::object();
  config::object_reader r(root.is_object() ? root : empty, "", d);
  std::string store;
  r.get("store", store);
  if (!store.empty()) {
    if (!looks_like_conninfo(store)) {
      d.error("store",
              "must be a PostgreSQL connection string (postgresql://user:password@host:port/database or "
              "key=value pairs); leave it out for the SQLite store at state_db");
    } else if (auto ok = detail::check_conninfo(store); !ok) {
      d.error("store", ok.err().message);
    } else {
      c.store = store;
    }
  }
  if (r.has("cluster")) {
    auto cr = r.child("cluster");
    cr.get("node", c.node);
    if (cr.has("node") && !valid_node_name(c.node)) {
      d.error("cluster.node", "must be 1 to 64 letters, digits, '-', '_' or '.'");
      c.node.clear();
    }
    if (cr.has("lease")) {
      double lease = c.lease;
      cr.get_duration("lease", lease);
      if (lease < 1 || lease > 3600)
        d.error("cluster.lease", "must be between 1 and 3600 seconds");
      else
        c.lease = lease;
    }
    cr.finish();
    if (store.empty())
      d.warn("cluster", "has no effect without store: postgresql://... (one node on SQLite)");
  }
  if (c.node.empty()) {
    c.node = local_host_name();
    if (auto dot = c.node.find('.'); dot != std::string::npos && dot > 0) c.node.resize(dot);
    if (!valid_node_name(c.node)) c.node = "hbd";
  }
  return c;
}

// The settings of an already validated tree (diagnostics were reported when it was loaded).
inline cluster_settings cluster_settings_of(const json::value& root) {
  config::diagnostics quiet;
  return read_cluster_settings(root, quiet);
}

}  // namespace heartbeat::server
