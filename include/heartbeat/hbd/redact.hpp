// Masks the secrets of a configuration tree for `hbd --print-config` and GET /api/0/config:
// secret keys' values, and passwords inside strings (a URL's user:password@, a connection
// string's password=). Pure functions on a copy; any thread.
#pragma once

#include <string>
#include <string_view>

#include "heartbeat/core/json.hpp"

namespace heartbeat::hbd {

namespace detail {

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

inline bool secret_key(std::string_view key) {
  std::string k = lower(key);
  for (const char* exact : {"password", "password_hash", "passwd", "secret", "token", "key", "user_key",
                            "api_key", "apikey", "credentials", "authorization", "private_key"})
    if (k == exact) return true;
  for (const char* part : {"password", "secret", "passwd"})
    if (k.find(part) != std::string::npos) return true;
  return k.size() > 6 && k.compare(k.size() - 6, 6, "_token") == 0;
}

// Every `scheme://user:password@host` in `s` becomes `scheme://user:***@host` (store URIs,
// remote_write and notifier URLs, or any other string that carries one).
inline std::string mask_url_passwords(std::string s) {
  for (std::size_t from = s.find("://"); from != std::string::npos; from = s.find("://", from)) {
    const std::size_t start = from + 3;
    std::size_t end = s.find_first_of("/?# \t\r\n", start);
    if (end == std::string::npos) end = s.size();
    const std::string_view authority = std::string_view(s).substr(start, end - start);
    const std::size_t at = authority.rfind('@');
    const std::size_t colon = authority.find(':');
    if (at != std::string_view::npos && colon < at && colon + 1 < at)
      s.replace(start + colon + 1, at - colon - 1, "***");
    from = start;
  }
  return s;
}

// Every `password=VALUE` (libpq's key=value pairs, also quoted, and URI query parameters)
// becomes `password=***`.
inline std::string mask_password_pairs(std::string s) {
  const std::string low = lower(s);
  std::string out;
  std::size_t copied = 0;
  for (std::size_t p = low.find("password"); p != std::string::npos; p = low.find("password", p + 8)) {
    const bool starts = p == 0 || low[p - 1] == ' ' || low[p - 1] == '\t' || low[p - 1] == '?' ||
                        low[p - 1] == '&' || low[p - 1] == ';';
    std::size_t i = p + 8;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (!starts || i >= s.size() || s[i] != '=') continue;
    ++i;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t end = i;
    if (end < s.size() && s[end] == '\'') {
      for (++end; end < s.size() && s[end] != '\''; ++end)
        if (s[end] == '\\') ++end;
      end = end < s.size() ? end + 1 : s.size();
    } else {
      while (end < s.size() && s[end] != ' ' && s[end] != '\t' && s[end] != '&' && s[end] != ';') ++end;
    }
    if (end == i) continue;
    out.append(s, copied, i - copied).append("***");
    copied = end;
    p = end - 8;  // the loop goes on after the value
  }
  if (copied == 0) return s;
  out.append(s, copied);
  return out;
}

inline void redact(json::value& v, std::string_view parent, std::string_view notifier_type, int depth) {
  if (depth > 32) return;
  if (v.is_string()) {
    if (v.as_string().find("://") == std::string::npos &&
        lower(v.as_string()).find("password") == std::string::npos)
      return;
    std::string masked = mask_password_pairs(mask_url_passwords(v.as_string()));
    if (masked != v.as_string()) v = json::value(std::move(masked));
    return;
  }
  if (v.is_array()) {
    for (auto& x : v.as_array()) redact(x, parent, notifier_type, depth + 1);
    return;
  }
  if (!v.is_object()) return;
  std::string type = v.string_or("type", std::string(notifier_type));
  bool headers = lower(parent) == "headers";
  for (auto& [k, x] : v.as_object()) {
    bool mask = headers || secret_key(k) ||
                // a Pushover user key (notifier or a user's pushover settings); a Mattermost hook URL
                (k == "user" && (type == "pushover" || parent == "pushover")) ||
                (k == "url" && (type == "mattermost" || parent == "mattermost"));
    if (mask && !x.is_null())
      x = json::value("***");
    else
      redact(x, k, type, depth + 1);
  }
}

}  // namespace detail

// The configuration as GET /api/0/config shows it: every secret (passwords and their hashes, host
// keys, notifier tokens, secrets, Pushover user keys, Mattermost hook URLs, webhook header values,
// passwords inside URLs and connection strings such as `store`) replaced by "***".
inline json::value redact_secrets(const json::value& root) {
  json::value v = root;
  detail::redact(v, {}, {}, 0);
  return v;
}

}  // namespace heartbeat::hbd
