// The config schema of every notifier type (its keys under `notifiers.<n>` and
// its per-user settings under `users.<u>.notification_settings.<slug>`), as
// data: the config loader validates against it and the docs list it. Pure
// data, read on the thread that loads the config.
#pragma once

#include <span>
#include <string_view>

#include "heartbeat/core/enum_names.hpp"

namespace heartbeat::notify {

enum class key_type : unsigned char { string, integer, boolean, duration, string_list, string_map, choice };

inline constexpr enum_names<key_type::choice> key_type_names{
    {"string", "integer", "boolean", "duration", "string_list", "string_map", "choice"}, "unknown"};

inline const char* to_string(key_type t) noexcept { return key_type_names[t]; }

struct key_spec {
  std::string_view key;
  key_type type;
  bool required = false;
  std::string_view default_value = {};  // as documented
  std::string_view choices = {};        // key_type::choice: words separated by '|'
  std::string_view doc = {};
};

// One notifier type, Cabot's alert plugin metadata: a display name, a unique
// slug (the `type` in the config), the notifier's keys and the per-user keys.
struct notifier_schema {
  std::string_view name;
  std::string_view slug;
  std::span<const key_spec> keys;
  std::span<const key_spec> user_keys;
};

namespace schemas {

// Keys every notifier accepts.
inline constexpr key_spec common_keys[] = {
    {"type", key_type::choice, true, {}, "email|pushover|mattermost|signal|webhook", "the notifier type"},
    {"timeout", key_type::duration, false, "10", {}, "per request"},
    {"tls_verify", key_type::boolean, false, "true", {}, "verify the server certificate"},
    {"ca_file", key_type::string, false, {}, {}, "CA bundle for the server certificate"},
};

inline constexpr key_spec email_keys[] = {
    {"smtp_host", key_type::string, true, {}, {}, "SMTP server"},
    {"smtp_port", key_type::integer, false, "25", {}, ""},
    {"smtp_tls", key_type::choice, false, "starttls", "starttls|tls|none", "STARTTLS, implicit TLS or plain"},
    {"username", key_type::string, false, {}, {}, "SMTP AUTH user"},
    {"password", key_type::string, false, {}, {}, "SMTP AUTH password (never logged)"},
    {"from", key_type::string, true, {}, {}, "sender address"},
    {"to", key_type::string_list, false, {}, {}, "recipients when no user routing applies"},
};
inline constexpr key_spec email_user_keys[] = {
    {"to", key_type::string_list, false, {}, {}, "the user's addresses"},
};

inline constexpr key_spec pushover_keys[] = {
    {"token", key_type::string, true, {}, {}, "application token (never logged)"},
    {"user", key_type::string, false, {}, {}, "user or group key when no user routing applies"},
    {"url", key_type::string, false, "https://api.pushover.net/1/messages.json", {}, "messages API"},
};
inline constexpr key_spec pushover_user_keys[] = {
    {"user", key_type::string, false, {}, {}, "the user's Pushover key"},
};

inline constexpr key_spec mattermost_keys[] = {
    {"url", key_type::string, true, {}, {}, "incoming webhook URL (never logged)"},
    {"channel", key_type::string, false, {}, {}, "channel override"},
    {"username", key_type::string, false, {}, {}, "poster name override"},
};
inline constexpr key_spec mattermost_user_keys[] = {
    {"channel", key_type::string, false, {}, {}, "e.g. @alice for a direct message"},
};

inline constexpr key_spec signal_keys[] = {
    {"url", key_type::string, true, {}, {}, "signal-cli REST gateway base URL"},
    {"number", key_type::string, true, {}, {}, "sender number"},
    {"recipients", key_type::string_list, false, {}, {}, "recipients when no user routing applies"},
};
inline constexpr key_spec signal_user_keys[] = {
    {"recipients", key_type::string_list, false, {}, {}, "the user's numbers"},
};

inline constexpr key_spec webhook_keys[] = {
    {"url", key_type::string, true, {}, {}, "receives a JSON POST"},
    {"secret", key_type::string, false, {}, {}, "adds X-Heartbeat-Signature: sha256=<hmac of the body>"},
    {"headers", key_type::string_map, false, {}, {}, "extra request headers"},
};
inline constexpr key_spec no_keys[] = {
    {"", key_type::string, false, {}, {}, ""},
};

inline constexpr notifier_schema all[] = {
    {"Email", "email", email_keys, email_user_keys},
    {"Pushover", "pushover", pushover_keys, pushover_user_keys},
    {"Mattermost", "mattermost", mattermost_keys, mattermost_user_keys},
    {"Signal", "signal", signal_keys, signal_user_keys},
    {"Webhook", "webhook", webhook_keys, std::span<const key_spec>(no_keys, 0)},
};

}  // namespace schemas

inline const notifier_schema* find_schema(std::string_view slug) noexcept {
  for (const auto& s : schemas::all)
    if (s.slug == slug) return &s;
  return nullptr;
}

}  // namespace heartbeat::notify
