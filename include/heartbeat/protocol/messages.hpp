// The messages of the wire protocol (docs/PROTOCOL.md) as typed structs, and
// `message`, the reusable decode target. Dependency-free (hbc_mini uses it).
// Decoding into the same `message` again reuses its strings' capacity, so the
// ingest path allocates nothing in the steady state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace heartbeat::protocol {

enum class msg_type : std::uint8_t { htb, plg, msg, res, ack, cmd, upd, err };

inline const char* to_string(msg_type t) noexcept {
  switch (t) {
    case msg_type::htb: return "HTB";
    case msg_type::plg: return "PLG";
    case msg_type::msg: return "MSG";
    case msg_type::res: return "RES";
    case msg_type::ack: return "ACK";
    case msg_type::cmd: return "CMD";
    case msg_type::upd: return "UPD";
    case msg_type::err: return "ERR";
  }
  return "?";
}

// Client to server -------------------------------------------------------------

struct heartbeat_msg {  // HTB
  std::string name;
  int ver = 1;
  std::uint64_t seq = 0;
  double interval = 0;  // seconds
  std::optional<double> ts;
  std::optional<double> rtt;        // ms, previous HTB/ACK round trip on this connection
  std::string agent;                // "hbc/1.0.0", empty when absent
  std::string owner;                // client-declared owner user, empty when absent
  std::optional<double> boot_time;  // Unix time of the sender's boot
};

// One leaf of a PLG's `data`, flattened: `path` joins the keys (and array
// indices) from `data` down to the leaf with '.', e.g. "partitions./.percent".
struct leaf {
  enum class kind : std::uint8_t { number, string, boolean, null };
  std::string path;
  kind type = kind::null;
  double number = 0;  // numbers; booleans as 0 or 1
  std::string text;   // strings
};

struct plugin_msg {  // PLG
  std::string name;
  std::string plugin;
  std::string kind;       // "info" | "monitor" | empty
  std::string data_json;  // the `data` object exactly as received (JSON text)
  std::optional<double> ts;
  std::optional<double> interval;
  // Flattened leaves of `data`; only the first `leaf_count` entries are valid
  // (the vector keeps spare entries so their strings' capacity is reused).
  std::vector<leaf> leaves;
  std::size_t leaf_count = 0;
};

enum class msg_event : std::uint8_t { message, boot, shutdown };

inline const char* to_string(msg_event e) noexcept {
  switch (e) {
    case msg_event::message: return "message";
    case msg_event::boot: return "boot";
    case msg_event::shutdown: return "shutdown";
  }
  return "message";
}

struct message_msg {  // MSG
  std::string name;
  std::string msg;  // at most 1024 characters
  msg_event event = msg_event::message;
  std::optional<double> ts;
};

struct result_msg {  // RES
  std::string name;
  std::string cmd_id;
  int rc = 0;
  std::string output;  // at most 4 KiB
  std::optional<double> ts;
};

// Server to client ---------------------------------------------------------------

struct ack_msg {  // ACK
  std::uint64_t seq = 0;
  std::optional<double> ts;  // echo of the HTB's ts
  double server_ts = 0;
  int request_update = 0;
};

struct command_msg {  // CMD
  std::string cmd_id;
  std::string command;
  std::vector<std::string> args;
};

struct upgrade_msg {  // UPD
  std::string cmd_id;
  std::string version;  // empty when absent
};

struct error_msg {  // ERR
  std::string error;
};

// Limits the protocol fixes.
inline constexpr std::size_t max_name_length = 253;
inline constexpr std::size_t max_msg_length = 1024;
inline constexpr std::size_t max_output_bytes = 4096;
inline constexpr std::size_t default_max_message_bytes = 1 << 20;
inline constexpr std::size_t max_json_depth = 64;
inline constexpr std::size_t compress_threshold = 512;

// A decoded datagram: `type` says which member is valid.
struct message {
  msg_type type = msg_type::htb;
  bool authenticated = false;  // carried a valid HBA1 envelope
  std::string key_id;          // the envelope's key id when authenticated
  heartbeat_msg htb;
  plugin_msg plg;
  message_msg msg;
  result_msg res;
  ack_msg ack;
  command_msg cmd;
  upgrade_msg upd;
  error_msg err;

  // The sender's host name for client-to-server messages, else empty.
  std::string_view sender() const noexcept {
    switch (type) {
      case msg_type::htb: return htb.name;
      case msg_type::plg: return plg.name;
      case msg_type::msg: return msg.name;
      case msg_type::res: return res.name;
      default: return {};
    }
  }
};

// A host name: 1..253 characters, each a letter, a digit, '.', '-' or '_'.
inline bool valid_host_name(std::string_view n) noexcept {
  if (n.empty() || n.size() > max_name_length) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace heartbeat::protocol
