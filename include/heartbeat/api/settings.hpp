// What hbd's HTTP side is configured with (hbd fills it from its configuration), and where the web
// UI's files are found. Plain data, read on the io thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "heartbeat/api/auth.hpp"
#include "heartbeat/api/guard.hpp"

#ifndef HB_WEB_SOURCE_DIR
#define HB_WEB_SOURCE_DIR ""
#endif
#ifndef HB_WEB_INSTALL_DIR
#define HB_WEB_INSTALL_DIR "/usr/local/share/heartbeat/web"
#endif

namespace heartbeat::api {

// Everything the HTTP side is configured with; the server's app fills it from server::config.
struct settings {
  std::string address = "0.0.0.0";  // hbd_host ("" means all interfaces)
  std::uint16_t http_port = 50004;  // hbd_port; 0 = ephemeral
  std::uint16_t ws_port = 50005;    // ws_port; 0 = ephemeral; disabled when ws_enabled is false
  bool ws_enabled = true;
  std::optional<std::uint16_t> wss_port;  // HTTPS + WSS when set
  std::string cert_file;                  // cert_path + wss_pem
  std::string key_file;                   // cert_path + wss_key
  std::string web_dir;                    // empty: search (see resolve_web_dir)
  std::vector<std::string> cors_origins;  // cors_origins; empty = CORS off
  double session_ttl = 12 * 3600;         // session_ttl seconds
  std::vector<user> users;                // users; empty = unauthenticated mode
  std::size_t ws_max_pending_bytes = 4u << 20;
  std::size_t ws_max_clients = 10000;
  double hosts_cache_ttl = 1.0;        // seconds a rendered GET /api/0/hosts may be reused (0: never)
  std::size_t login_per_user = 5;      // failed logins per user per login_window
  std::size_t login_per_address = 20;  // failed logins per client address per login_window
  double login_window = 300;
  http_guard_config guard;  // http_hosts, trusted_proxies, connection and body limits (guard.hpp)
};

// The web UI directory: the configured one; else share/heartbeat/web beside the binary's bin/ (an
// installed hbd, wherever its prefix); else the source tree's web/ (HB_WEB_SOURCE_DIR: a build-tree
// hbd); else web/ next to the binary; else the install prefix's (HB_WEB_INSTALL_DIR). The installed
// copy comes before the source tree, so that a packaged hbd never serves the build machine's files.
inline std::string resolve_web_dir(const std::string& configured) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!configured.empty()) return configured;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto share = exe.parent_path().parent_path() / "share" / "heartbeat" / "web";
    if (fs::is_directory(share, ec)) return share.string();
  }
  if (std::string_view(HB_WEB_SOURCE_DIR).size() && fs::is_directory(HB_WEB_SOURCE_DIR, ec))
    return HB_WEB_SOURCE_DIR;
  if (!exe.empty()) {
    auto beside = exe.parent_path() / "web";
    if (fs::is_directory(beside, ec)) return beside.string();
  }
  return HB_WEB_INSTALL_DIR;
}

}  // namespace heartbeat::api
