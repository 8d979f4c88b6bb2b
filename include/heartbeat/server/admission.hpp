// Host admission: which datagrams may create a host or a plugin in the registry
// (`accept_hosts`, `max_hosts`, `max_new_hosts_per_minute` as a token bucket,
// `max_plugins_per_host`), the config keys with their key-path diagnostics, and a
// log of refusals at most once a minute per reason. The registry asks only when a
// name or plugin is new, so known hosts pay nothing. io thread (the registry's).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/protocol/reject.hpp"

namespace heartbeat::server {

// accept_hosts: which senders the UDP port listens to (docs/SECURITY.md).
enum class accept_mode : std::uint8_t {
  any,            // any name may create a host, within max_hosts and max_new_hosts_per_minute
  configured,     // only names under hosts:
  authenticated,  // only datagrams with a valid HBA1 envelope (so: configured hosts with a key)
};

inline const char* to_string(accept_mode m) noexcept {
  switch (m) {
    case accept_mode::any: return "any";
    case accept_mode::configured: return "configured";
    case accept_mode::authenticated: return "authenticated";
  }
  return "any";
}

struct admission_config {
  accept_mode accept_hosts = accept_mode::any;
  std::size_t max_hosts = 100000;          // hosts the registry may hold (0: no limit)
  double max_new_hosts_per_minute = 6000;  // token bucket: burst and refill per minute (0: no limit)
  std::size_t max_plugins_per_host = 64;   // plugin names per host (0: no limit)
};

// Reads the admission keys from the top-level mapping.
inline admission_config read_admission_config(config::object_reader& r) {
  admission_config a;
  std::string mode = to_string(a.accept_hosts);
  r.get_enum("accept_hosts", mode, {"any", "configured", "authenticated"});
  a.accept_hosts = mode == "configured"      ? accept_mode::configured
                   : mode == "authenticated" ? accept_mode::authenticated
                                             : accept_mode::any;
  r.get("max_hosts", a.max_hosts, 0, 1e9);
  r.get("max_new_hosts_per_minute", a.max_new_hosts_per_minute, 0, 1e9);
  r.get("max_plugins_per_host", a.max_plugins_per_host, 0, 1e6);
  return a;
}

class admission_gate {
 public:
  static constexpr double log_every = 60;  // seconds between two log lines of one reason

  // Start-up and SIGHUP; `mono` is the monotonic time. The bucket starts full.
  void configure(const admission_config& c, double mono) {
    bool rate_changed = c.max_new_hosts_per_minute != cfg_.max_new_hosts_per_minute;
    cfg_ = c;
    if (rate_changed || !configured_) {
      tokens_ = c.max_new_hosts_per_minute;
      refilled_ = mono;
    }
    configured_ = true;
  }
  const admission_config& config() const noexcept { return cfg_; }

  // A datagram names a host the registry does not know (`hosts` are held now): none when it may
  // create it, else why not (not_configured, host_limit, host_rate). Takes a token when admitted.
  protocol::reject admit_new_host(std::size_t hosts, double mono) {
    if (cfg_.accept_hosts != accept_mode::any) return protocol::reject::not_configured;
    if (cfg_.max_hosts && hosts >= cfg_.max_hosts) return protocol::reject::host_limit;
    if (cfg_.max_new_hosts_per_minute > 0) {
      const double rate = cfg_.max_new_hosts_per_minute / 60;
      tokens_ = std::min(cfg_.max_new_hosts_per_minute, tokens_ + std::max(0.0, mono - refilled_) * rate);
      refilled_ = mono;
      if (tokens_ < 1) return protocol::reject::host_rate;
      tokens_ -= 1;
    }
    return protocol::reject::none;
  }

  // May a host that holds `plugins` plugin names get one more?
  bool admit_plugin(std::size_t plugins) const noexcept {
    return cfg_.max_plugins_per_host == 0 || plugins < cfg_.max_plugins_per_host;
  }

  // Logs a refusal: the first at once, then at most one line a minute per reason with the
  // number refused meanwhile. `host` and `plugin` (may be empty) are what the sender claimed;
  // the logger escapes control characters.
  void note(protocol::reject why, std::string_view host, std::string_view plugin, double mono) {
    slot& s = slots_[index(why)];
    ++s.pending;
    if (s.logged && mono - s.last < log_every) return;
    s.logged = true;
    s.last = mono;
    std::uint64_t n = s.pending;
    s.pending = 0;
    log::warn("ingest: refused ", n, n == 1 ? " datagram" : " datagrams since the last report", " (",
              protocol::to_string(why), ": ", explain(why), "), e.g. host '", host, "'",
              plugin.empty() ? "" : ", plugin '", plugin, plugin.empty() ? "" : "'");
  }

 private:
  struct slot {
    bool logged = false;
    double last = 0;
    std::uint64_t pending = 0;
  };
  admission_config cfg_;
  bool configured_ = false;
  double tokens_ = 0;
  double refilled_ = 0;
  slot slots_[4];

  static std::size_t index(protocol::reject r) noexcept {
    switch (r) {
      case protocol::reject::host_limit: return 0;
      case protocol::reject::host_rate: return 1;
      case protocol::reject::not_configured: return 2;
      default: return 3;
    }
  }
  std::string explain(protocol::reject r) const {
    switch (r) {
      case protocol::reject::host_limit: return "max_hosts " + std::to_string(cfg_.max_hosts) + " reached";
      case protocol::reject::host_rate:
        return "more than max_new_hosts_per_minute " +
               std::to_string(static_cast<long long>(cfg_.max_new_hosts_per_minute)) + " new hosts";
      case protocol::reject::not_configured:
        return std::string("accept_hosts is ") + to_string(cfg_.accept_hosts) +
               " and the name is not under hosts:";
      case protocol::reject::plugin_limit:
        return "max_plugins_per_host " + std::to_string(cfg_.max_plugins_per_host) + " reached";
      default: return protocol::to_string(r);
    }
  }
};

}  // namespace heartbeat::server
