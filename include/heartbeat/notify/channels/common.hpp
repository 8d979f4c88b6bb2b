// Helpers every channel uses to read its validated config mapping and the
// per-user settings of a message, and http_channel, the base of the channels that POST to an
// HTTP endpoint; worker thread (construction: config thread).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
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

// The base of pushover, mattermost, signal and webhook: the validated config, the schema (its
// index in schemas::all) and a POST request with the configured timeout and TLS settings.
template <std::size_t Schema>
class http_channel {
 public:
  static const notifier_schema& schema() { return schemas::all[Schema]; }

  explicit http_channel(const json::value& cfg) : cfg_(cfg) {}

 protected:
  // A POST of `body` for message `m` (its id in X-Heartbeat-Id, so that a receiver can drop the copy
  // a failover may send again).
  detail::http_request request(const message& m, std::string url, std::string_view content_type,
                               std::string body) const {
    detail::http_request r;
    r.url = std::move(url);
    r.body = std::move(body);
    r.headers = {"Content-Type: " + std::string(content_type)};
    add_id_header(r.headers, m);
    r.timeout = timeout_of(cfg_);
    r.tls = tls_of(cfg_);
    return r;
  }

  json::value cfg_;
};

}  // namespace heartbeat::notify::channels
