// The protocol's field table and value helpers: which fields each message type
// takes, this implementation's limits, and the checks the decoder's SAX handler
// (sax_handler.hpp) applies. Pure functions; any thread.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "heartbeat/protocol/messages.hpp"
#include "heartbeat/protocol/reject.hpp"

namespace heartbeat::protocol {

// Limits of this implementation beyond those the protocol names (docs/PROTOCOL.md).
inline constexpr std::size_t max_short_string = 253;   // plugin, agent, owner, cmd_id, command, version
inline constexpr std::size_t max_error_length = 1024;  // ERR error
inline constexpr std::size_t max_args = 64;            // CMD args entries
inline constexpr std::size_t max_arg_bytes = 4096;     // each CMD arg
inline constexpr std::size_t max_leaves = 8192;        // leaves of one PLG data
inline constexpr std::size_t max_leaf_path = 512;      // bytes of one leaf path

namespace detail {

enum field : std::uint8_t {
  f_id,
  f_name,
  f_ver,
  f_seq,
  f_interval,
  f_ts,
  f_rtt,
  f_agent,
  f_owner,
  f_boot_time,
  f_plugin,
  f_kind,
  f_data,
  f_msg,
  f_event,
  f_cmd_id,
  f_rc,
  f_output,
  f_server_ts,
  f_request_update,
  f_command,
  f_args,
  f_version,
  f_error,
  f_unknown
};

constexpr std::uint32_t bit(field f) noexcept { return std::uint32_t{1} << f; }

// k == lit for a key whose length the caller already matched (memcmp of a constant size inlines).
template <std::size_t N>
inline bool is(std::string_view k, const char (&lit)[N]) noexcept {
  return std::memcmp(k.data(), lit, N - 1) == 0;
}

inline field lookup_field(std::string_view k) noexcept {
  switch (k.size()) {
    case 2:
      if (is(k, "ID")) return f_id;
      if (is(k, "ts")) return f_ts;
      if (is(k, "rc")) return f_rc;
      break;
    case 3:
      if (is(k, "seq")) return f_seq;
      if (is(k, "ver")) return f_ver;
      if (is(k, "rtt")) return f_rtt;
      if (is(k, "msg")) return f_msg;
      break;
    case 4:
      if (is(k, "name")) return f_name;
      if (is(k, "data")) return f_data;
      if (is(k, "kind")) return f_kind;
      if (is(k, "args")) return f_args;
      break;
    case 5:
      if (is(k, "agent")) return f_agent;
      if (is(k, "owner")) return f_owner;
      if (is(k, "event")) return f_event;
      if (is(k, "error")) return f_error;
      break;
    case 6:
      if (is(k, "plugin")) return f_plugin;
      if (is(k, "cmd_id")) return f_cmd_id;
      if (is(k, "output")) return f_output;
      break;
    case 7:
      if (is(k, "command")) return f_command;
      if (is(k, "version")) return f_version;
      break;
    case 8:
      if (is(k, "interval")) return f_interval;
      break;
    case 9:
      if (is(k, "boot_time")) return f_boot_time;
      if (is(k, "server_ts")) return f_server_ts;
      break;
    case 14:
      if (is(k, "request_update")) return f_request_update;
      break;
    default: break;
  }
  return f_unknown;
}

struct type_fields {
  std::uint32_t required;
  std::uint32_t optional;
};

inline type_fields fields_of(msg_type t) noexcept {
  switch (t) {
    case msg_type::htb:
      return {bit(f_name) | bit(f_ver) | bit(f_seq) | bit(f_interval),
              bit(f_ts) | bit(f_rtt) | bit(f_agent) | bit(f_owner) | bit(f_boot_time)};
    case msg_type::plg:
      return {bit(f_name) | bit(f_plugin) | bit(f_data), bit(f_ts) | bit(f_kind) | bit(f_interval)};
    case msg_type::msg: return {bit(f_name) | bit(f_msg), bit(f_ts) | bit(f_event)};
    case msg_type::res: return {bit(f_name) | bit(f_cmd_id) | bit(f_rc), bit(f_ts) | bit(f_output)};
    case msg_type::ack: return {bit(f_seq) | bit(f_server_ts), bit(f_ts) | bit(f_request_update)};
    case msg_type::cmd: return {bit(f_cmd_id) | bit(f_command), bit(f_args) | bit(f_ts)};
    case msg_type::upd: return {bit(f_cmd_id), bit(f_version) | bit(f_ts)};
    case msg_type::err: return {bit(f_error), bit(f_ts)};
  }
  return {0, 0};
}

inline bool is_client_type(msg_type t) noexcept {
  return t == msg_type::htb || t == msg_type::plg || t == msg_type::msg || t == msg_type::res;
}

// Number of UTF-8 characters (the input is already valid UTF-8).
inline std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// An integer literal (no fraction or exponent) or a number whose value is integral.
template <class Int>
inline bool as_integer(double v, std::string_view raw, Int& out) noexcept {
  bool plain = true;
  for (char c : raw) plain &= (c != '.') & (c != 'e') & (c != 'E');
  if (plain) {
    auto [p, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), out);
    return ec == std::errc() && p == raw.data() + raw.size();
  }
  if (!std::isfinite(v) || v != std::floor(v)) return false;
  if (v < static_cast<double>(std::numeric_limits<Int>::min()) ||
      v >= static_cast<double>(std::numeric_limits<Int>::max()))
    return false;
  out = static_cast<Int>(v);
  return true;
}

// dst = [p, p + n). Decoding the same message shape again hits equal sizes: then a
// plain copy, without std::string's general replace path (a measurable share of a PLG).
inline void assign(std::string& dst, const char* p, std::size_t n) {
  if (dst.size() == n) {
    if (n) std::memcpy(dst.data(), p, n);
  } else {
    dst.assign(p, n);
  }
}
inline void assign(std::string& dst, std::string_view s) { assign(dst, s.data(), s.size()); }

}  // namespace detail
}  // namespace heartbeat::protocol
