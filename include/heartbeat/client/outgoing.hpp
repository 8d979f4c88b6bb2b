// The client-to-server messages that hbc and hbc_mini build the same way
// (only their sockets and loops differ).
#pragma once

#include <string>
#include <string_view>

#include "heartbeat/readers/proc.hpp"
#include "heartbeat/protocol/messages.hpp"

namespace heartbeat::client {

// MSG: the text cut to the protocol's limit without splitting a UTF-8 character.
inline protocol::message_msg make_message(const std::string& name, std::string_view text,
                                          protocol::msg_event ev, double ts) {
  protocol::message_msg m;
  m.name = name;
  m.msg = readers::valid_utf8_prefix(text, protocol::max_msg_length);
  m.event = ev;
  m.ts = ts;
  return m;
}

// RES for a CMD or UPD.
inline protocol::result_msg make_result(const std::string& name, const std::string& cmd_id, int rc,
                                        const std::string& output, double ts) {
  protocol::result_msg m;
  m.name = name;
  m.cmd_id = cmd_id;
  m.rc = rc;
  m.output = output;
  m.ts = ts;
  return m;
}

}  // namespace heartbeat::client
