// Why a datagram was dropped: the decoder's reason codes and the server's host
// admission refusals, used as metric labels (their names are stable). Dependency-free; any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heartbeat::protocol {

enum class reject : std::uint8_t {
  none,
  unknown_first_byte,  // body is neither '{' nor a zlib stream (0x78), or empty
  inflate_error,       // zlib stream corrupt, truncated, trailing bytes, or no inflater
  too_large,           // body over max_message_bytes (before or after inflating), too many leaves
  bad_json,
  bad_utf8,
  too_deep,       // nesting deeper than 64
  missing_field,  // a required field is absent (ts counts as required when authenticated)
  wrong_type,     // a known field has the wrong JSON type or an impossible value
  bad_name,       // name not 1..253 of [A-Za-z0-9._-], or empty plugin name
  too_long,       // a string over its limit (msg 1024 chars, output 4 KiB, ...)
  unknown_type,   // ID is not one of the eight message types
  auth_failed,    // malformed envelope or bad mac
  unknown_key,    // the envelope's key_id has no key
  name_mismatch,  // authenticated client message whose name differs from key_id
  stale_ts,       // |now - ts| > auth_window
  replay,         // the same mac was already accepted inside the window
  auth_required,  // unauthenticated, but the host has a key / require_auth / CMD or UPD
  // Host admission (server/admission.hpp): the datagram decoded but may not grow the registry.
  host_limit,      // a new host name, but max_hosts hosts are known
  host_rate,       // a new host name, but max_new_hosts_per_minute were created lately
  not_configured,  // accept_hosts is configured or authenticated and the name is not under hosts:
  plugin_limit,    // a new plugin name, but the host has max_plugins_per_host plugins
};

inline constexpr std::size_t reject_count = static_cast<std::size_t>(reject::plugin_limit) + 1;

inline const char* to_string(reject r) noexcept {
  switch (r) {
    case reject::none: return "none";
    case reject::unknown_first_byte: return "unknown_first_byte";
    case reject::inflate_error: return "inflate_error";
    case reject::too_large: return "too_large";
    case reject::bad_json: return "bad_json";
    case reject::bad_utf8: return "bad_utf8";
    case reject::too_deep: return "too_deep";
    case reject::missing_field: return "missing_field";
    case reject::wrong_type: return "wrong_type";
    case reject::bad_name: return "bad_name";
    case reject::too_long: return "too_long";
    case reject::unknown_type: return "unknown_type";
    case reject::auth_failed: return "auth_failed";
    case reject::unknown_key: return "unknown_key";
    case reject::name_mismatch: return "name_mismatch";
    case reject::stale_ts: return "stale_ts";
    case reject::replay: return "replay";
    case reject::auth_required: return "auth_required";
    case reject::host_limit: return "host_limit";
    case reject::host_rate: return "host_rate";
    case reject::not_configured: return "not_configured";
    case reject::plugin_limit: return "plugin_limit";
  }
  return "unknown";
}

}  // namespace heartbeat::protocol
