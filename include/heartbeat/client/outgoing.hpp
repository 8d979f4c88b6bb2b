// The client-to-server messages that hbc and hbc_mini build the same way, and how both read
// the server's replies (only their sockets and loops differ). The caller's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "heartbeat/client/config.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/version.hpp"
#include "heartbeat/protocol/codec.hpp"
#include "heartbeat/protocol/messages.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::client {

// HTB number `seq` with the config's name, interval and owner; `agent` e.g. "hbc/1.0.0".
inline protocol::heartbeat_msg make_heartbeat(const client_config& cfg, std::uint64_t seq, double ts,
                                              std::optional<double> rtt, std::string agent,
                                              std::optional<double> boot_time) {
  return {.name = cfg.name,
          .ver = protocol_version,
          .seq = seq,
          .interval = cfg.interval,
          .ts = ts,
          .rtt = rtt,
          .agent = std::move(agent),
          .owner = cfg.owner,
          .boot_time = boot_time};
}

// MSG: the text cut to the protocol's limit without splitting a UTF-8 character.
inline protocol::message_msg make_message(const std::string& name, std::string_view text,
                                          protocol::msg_event ev, double ts) {
  return {
      .name = name, .msg = readers::valid_utf8_prefix(text, protocol::max_msg_length), .event = ev, .ts = ts};
}

// RES for a CMD or UPD.
inline protocol::result_msg make_result(const std::string& name, const std::string& cmd_id, int rc,
                                        const std::string& output, double ts) {
  return {.name = name, .cmd_id = cmd_id, .rc = rc, .output = output, .ts = ts};
}

// Decodes a datagram from the server into `in`; with a key, a reply authenticated for the
// config's name counts as authenticated. False, logged at debug level as `who`'s, for anything
// that is not a valid reply.
template <class Policy>
bool decode_reply(protocol::decoder<Policy>& dec, const client_config& cfg, std::span<const std::uint8_t> d,
                  protocol::message& in, std::string_view who) {
  const std::string* key = cfg.key.empty() ? nullptr : &cfg.key;
  auto keys = [&](std::string_view id) -> const std::string* { return id == cfg.name ? key : nullptr; };
  protocol::reject r = dec.decode(d, clock::wall_now(), keys, in);
  if (r == protocol::reject::none) return true;
  log::debug(who, ": dropped a reply from the server: ", protocol::to_string(r));
  return false;
}

// A CMD or UPD is obeyed only in an authenticated reply to a keyed client, never over an
// unauthenticated transport.
inline bool command_allowed(const protocol::message& in, const client_config& cfg) {
  return in.authenticated && !cfg.key.empty();
}

}  // namespace heartbeat::client
