// The server's part of hbd's configuration: the typed server::config struct (UDP,
// host timing, protocol, store, journal, DNS, process, users and roles, hosts) with
// its built-in defaults, and read_server_config(), which reads those keys from the
// top-level reader and reports every problem with its key path. hbd/config.hpp
// composes it with the other parts' sections. Main thread at start-up, io thread
// on SIGHUP.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/protocol/messages.hpp"
#include "heartbeat/server/admission.hpp"

namespace heartbeat::server {

// The config-reading helpers (heartbeat::config) under a name that does not
// clash with the struct server::config.
namespace cfg = heartbeat::config;

// users.<name>: a person who may log in (sessions and roles: docs/USERS.md).
struct user_config {
  std::string name;
  std::string full_name;
  std::string avatar;
  std::string password;  // pbkdf2:sha256:<iterations>$<salt>$<hash> (hbd passwd)
  bool admin = false;
  std::vector<std::string> notification_channels;  // notifier names (notifiers.<n>)
  json::value raw;  // the whole users.<name> mapping (notify reads per-user channel settings from it)
};

// hosts.<name>: what the operator says about a host.
struct host_config {
  std::string name;
  std::string key;  // HMAC secret for the HBA1 envelope; empty: none
  bool watch = true;
  bool dyn = false;
  std::vector<std::string> threshold_config;  // profile names, applied left to right
  std::string owner;
  std::vector<std::string> managers;
  std::vector<std::string> monitors;
};

namespace detail {
inline std::string state_dir() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/heartbeat";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/state/heartbeat";
  return "/var/lib/heartbeat";
}
}  // namespace detail

struct config {
  // -- network -------------------------------------------------------------
  std::uint16_t hb_port = 50003;   // UDP heartbeats (IPv4 and IPv6)
  std::string hb_host;             // new: UDP bind address; empty: every interface, IPv4 and IPv6
  std::uint16_t hbd_port = 50004;  // HTTP API, web UI, /ws
  std::string hbd_host;            // HTTP bind address; empty: all interfaces
  std::uint16_t ws_port = 50005;   // plain WebSocket (/hbd); 0: off
  std::uint16_t wss_port = 0;      // secure WebSocket; 0: off
  std::string cert_path = "/usr/local/etc/ssl/";
  std::string wss_pem = "fullchain.pem";
  std::string wss_key = "privkey.pem";
  std::uint32_t udp_rcvbuf = 16u << 20;  // new: SO_RCVBUF asked for on the UDP sockets (bytes)

  // -- host timing -----------------------------------------------------------
  double interval = 30;       // expected heartbeat interval of configured hosts before their first HTB
  double grace = 15;          // a connection is DOWN after interval + grace without HTB
  double command_ttl = 3600;  // new: a queued CMD/UPD expires after this many seconds

  // -- protocol --------------------------------------------------------------
  std::size_t max_message_bytes = protocol::default_max_message_bytes;
  bool require_auth = false;
  double auth_window = 120;

  // -- data ------------------------------------------------------------------
  std::size_t history_samples = 100;
  std::size_t history_memory = std::size_t{256} << 20;  // new: bytes of plugin data kept in memory at most
  double history_retention = 7 * 86400.0;
  std::string state_db = detail::state_dir() + "/hbd.sqlite";  // alias: pickfile

  // -- journal ---------------------------------------------------------------
  bool journal_enabled = true;
  std::string journal_dir = detail::state_dir();
  std::string journal_file = "messages.journal";
  std::uint64_t journal_max_size = 104857600;
  std::uint32_t journal_max_backups = 10;

  // -- DNS -------------------------------------------------------------------
  std::vector<std::string> dyndomains;
  std::string nsupdate_bin = "/usr/bin/nsupdate";
  std::string nsupdate_key;     // new: TSIG key file passed as `nsupdate -k FILE`
  std::string nsupdate_server;  // new: name server for `server` lines; empty: nsupdate finds it
  std::uint16_t nsupdate_port = 53;
  double nsupdate_timeout = 10;  // new: seconds before an nsupdate run is killed
  std::uint32_t dns_ttl = 60;    // new: TTL of the A/AAAA records

  // -- process ---------------------------------------------------------------
  std::string logfile;  // empty: stderr (or syslog when daemonized)
  std::string templates_dir;
  std::string web_dir;  // web UI files (api::resolve_web_dir picks a default); templates_dir is an alias

  // -- users, roles, API -----------------------------------------------------
  std::map<std::string, user_config, std::less<>> users;
  std::string default_owner;  // owner of hosts with none; falls back to the first admin
  std::vector<std::string> cors_origins;
  double session_ttl = 12 * 3600.0;

  // -- hosts -----------------------------------------------------------------
  std::map<std::string, host_config, std::less<>> hosts;
  admission_config admission;  // accept_hosts, max_hosts, ... (admission.hpp; hbd/config.hpp reads it)

  // -- the whole tree, for the parts with their own loaders (hbd/config.hpp) ----
  json::value root = json::value::object();
  std::string source;  // the file it came from; empty: built-in defaults

  const host_config* host(std::string_view name) const {
    auto it = hosts.find(name);
    return it == hosts.end() ? nullptr : &it->second;
  }
  const user_config* user(std::string_view name) const {
    auto it = users.find(name);
    return it == users.end() ? nullptr : &it->second;
  }
  // default_owner, else the first admin (by name), else empty.
  std::string effective_default_owner() const {
    if (!default_owner.empty()) return default_owner;
    for (const auto& [n, u] : users)
      if (u.admin) return n;
    return {};
  }
  std::string journal_path() const { return journal_dir + "/" + journal_file; }
};

namespace detail {

inline void read_port(cfg::object_reader& r, std::string_view key, std::uint16_t& out) {
  r.get(key, out, 0, 65535);
}

inline host_config read_host(cfg::object_reader r, const std::string& name) {
  host_config h;
  h.name = name;
  if (!protocol::valid_host_name(name))
    r.diag().error(r.path(), "not a valid host name (1 to 253 letters, digits, '.', '-' or '_')");
  r.get("key", h.key);
  if (!h.key.empty() && h.key.size() < 16) r.diag().error(r.key_path("key"), "must be at least 16 bytes");
  r.get("watch", h.watch);
  r.get("dyn", h.dyn);
  // DNS records change only on authenticated heartbeats: an unauthenticated datagram is trivial
  // to spoof, and would let anyone point <name>.<dyndomain> at any address.
  if (h.dyn && h.key.empty())
    r.diag().error(
        r.key_path("dyn"),
        "needs " + r.key_path("key") + " (DNS records change only on heartbeats with a valid HBA1 envelope)");
  r.get("threshold_config", h.threshold_config);
  r.get("owner", h.owner);
  r.get("managers", h.managers);
  r.get("monitors", h.monitors);
  r.known({"escalation"});  // the host's escalation ladder: notify/escalation.hpp validates it
  r.finish();
  return h;
}

inline user_config read_user(cfg::object_reader r, const std::string& name, const json::value& raw) {
  user_config u;
  u.name = name;
  u.raw = raw;
  r.get("full_name", u.full_name);
  r.get("avatar", u.avatar);
  r.get("password", u.password);
  if (!u.password.empty() && u.password.rfind("pbkdf2:", 0) != 0)
    r.diag().error(r.key_path("password"), "must be a hash made by `hbd passwd` (pbkdf2:sha256:...)");
  r.get("admin", u.admin);
  r.get("notification_channels", u.notification_channels);
  // Other keys of a user (e.g. email, pushover_user) are per-user notification
  // settings that notify::load_config validates; no unknown-key warning here.
  return u;
}

}  // namespace detail

// Reads every server key through `r`, the reader of the top-level mapping; problems go
// to `diag` with their key path. Returns a config with defaults for every key that is
// absent or wrong. Keys of other parts are left for their loaders (hbd/config.hpp).
inline config read_server_config(cfg::object_reader& r, cfg::diagnostics& diag) {
  config c;

  detail::read_port(r, "hb_port", c.hb_port);
  r.get("hb_host", c.hb_host);
  detail::read_port(r, "hbd_port", c.hbd_port);
  r.get("hbd_host", c.hbd_host);
  detail::read_port(r, "ws_port", c.ws_port);
  detail::read_port(r, "wss_port", c.wss_port);
  r.get("cert_path", c.cert_path);
  r.get("wss_pem", c.wss_pem);
  r.get("wss_key", c.wss_key);
  r.get("udp_rcvbuf", c.udp_rcvbuf, 65536, 1 << 30);

  r.get_duration("interval", c.interval);
  if (c.interval <= 0) diag.error("interval", "must be more than 0 seconds");
  r.get_duration("grace", c.grace);
  r.get_duration("command_ttl", c.command_ttl);

  r.get("max_message_bytes", c.max_message_bytes, 512, 64.0 * 1024 * 1024);
  r.get("require_auth", c.require_auth);
  r.get_duration("auth_window", c.auth_window);
  if (c.auth_window < 1) diag.error("auth_window", "must be at least 1 second");

  r.get("history_samples", c.history_samples, 1, 100000);
  r.get("history_memory", c.history_memory, 0, 1e12);
  r.get_duration("history_retention", c.history_retention);
  if (r.has("state_db")) {
    r.get("state_db", c.state_db);
    r.known({"pickfile"});
    if (r.has("pickfile")) diag.warn("pickfile", "ignored: state_db is set (pickfile is its old name)");
  } else {
    r.get("pickfile", c.state_db);
  }

  r.get("journal_enabled", c.journal_enabled);
  r.get("journal_dir", c.journal_dir);
  r.get("journal_file", c.journal_file);
  if (c.journal_file.empty() || c.journal_file.find('/') != std::string::npos)
    diag.error("journal_file", "must be a file name without '/'");
  r.get("journal_max_size", c.journal_max_size, 4096, 1e15);
  r.get("journal_max_backups", c.journal_max_backups, 0, 100000);

  r.get("dyndomains", c.dyndomains);
  r.get("nsupdate_bin", c.nsupdate_bin);
  r.get("nsupdate_key", c.nsupdate_key);
  r.get("nsupdate_server", c.nsupdate_server);
  detail::read_port(r, "nsupdate_port", c.nsupdate_port);
  r.get_duration("nsupdate_timeout", c.nsupdate_timeout);
  r.get("dns_ttl", c.dns_ttl, 0, 2147483647.0);

  r.get("logfile", c.logfile);
  r.get("templates_dir", c.templates_dir);
  r.get("web_dir", c.web_dir);

  r.get("default_owner", c.default_owner);
  r.get("cors_origins", c.cors_origins);
  r.get_duration("session_ttl", c.session_ttl);

  if (const json::value* users = r.raw("users")) {
    if (!users->is_object()) {
      diag.error("users", std::string("must be a mapping, not ") + json::to_string(users->type()));
    } else {
      for (const auto& [name, v] : users->as_object()) {
        std::string path = cfg::join_path("users", name);
        c.users[name] = detail::read_user(cfg::object_reader(v, path, diag), name, v);
      }
    }
  }
  if (!c.default_owner.empty() && !c.users.empty() && !c.user(c.default_owner))
    diag.error("default_owner", "names no user in users (\"" + c.default_owner + "\")");

  if (const json::value* hosts = r.raw("hosts")) {
    if (!hosts->is_object()) {
      diag.error("hosts", std::string("must be a mapping, not ") + json::to_string(hosts->type()));
    } else {
      for (const auto& [name, v] : hosts->as_object()) {
        std::string path = cfg::join_path("hosts", name);
        c.hosts[name] = detail::read_host(cfg::object_reader(v, path, diag), name);
      }
    }
  }
  if (c.require_auth) {
    bool any_key = false;
    for (const auto& [n, h] : c.hosts) any_key = any_key || !h.key.empty();
    if (!any_key) diag.warn("require_auth", "no host has a key: every datagram will be dropped");
  }

  return c;
}

}  // namespace heartbeat::server
