// Helpers every channel uses to read its validated config mapping and the
// per-user settings of a message; worker thread (construction: config thread).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/notify/detail/curl.hpp"

namespace heartbeat::notify::channels {

// Every HTTP channel sends the notification's stable id, so that a receiver can drop the copy a
// failover between hbd nodes may send again (docs/CLUSTER.md).
inline void add_id_header(std::vector<std::string>& headers, const message& m) {
  if (!m.source.id.empty()) headers.push_back("X-Heartbeat-Id: " + m.source.id);
}

inline std::string str(const json::value& cfg, std::string_view key, std::string_view dflt = {}) {
  const json::value* v = cfg.find(key);
  return v && v->is_string() ? v->as_string() : std::string(dflt);
}

inline std::vector<std::string> list(const json::value& cfg, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = cfg.find(key);
  if (!v) return out;
  if (v->is_string()) out.push_back(v->as_string());
  for (const auto& e : v->as_array())
    if (e.is_string()) out.push_back(e.as_string());
  return out;
}

inline double timeout_of(const json::value& cfg) {
  const json::value* v = cfg.find("timeout");
  if (v)
    if (auto d = config::parse_duration(*v)) return *d > 0 ? *d : 10;
  return 10;
}

inline detail::tls_options tls_of(const json::value& cfg) {
  return {cfg.bool_or("tls_verify", true), str(cfg, "ca_file")};
}

// A per-user setting when the message is for a user who set it, else the notifier's own.
inline std::string user_or(const message& m, const json::value& cfg, std::string_view user_key,
                           std::string_view cfg_key) {
  if (m.user_settings.is_object())
    if (const json::value* v = m.user_settings.find(user_key); v && v->is_string() && !v->as_string().empty())
      return v->as_string();
  return str(cfg, cfg_key);
}

inline std::vector<std::string> user_or_list(const message& m, const json::value& cfg,
                                             std::string_view user_key, std::string_view cfg_key) {
  if (m.user_settings.is_object()) {
    auto l = list(m.user_settings, user_key);
    if (!l.empty()) return l;
  }
  return list(cfg, cfg_key);
}

}  // namespace heartbeat::notify::channels
