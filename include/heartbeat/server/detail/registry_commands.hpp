// The registry's command queues (commands.hpp has the records' ids and JSON):
// CMD and UPD queued through the API, their delivery after an ACK, the RES
// that closes one. Bodies of host_registry (host_registry.hpp); io thread only.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/server/host_registry.hpp"

namespace heartbeat::server {

inline result<std::string> host_registry::queue_command(std::string_view name, std::string command,
                                                        std::vector<std::string> args,
                                                        std::string requested_by, clock::instant now) {
  host* h = find(name);
  if (!h) return make_error("not_found", "no host named " + std::string(name));
  if (!h->has_key())
    return make_error("not_authenticated", "host " + h->name + " has no key: commands need hosts.<name>.key");
  if (command.empty() || !protocol::valid_host_name(command))
    return make_error("bad_command", "command must be a name from the client's allow-list");
  command_record c;
  c.command = std::move(command);
  c.args = std::move(args);
  c.requested_by = std::move(requested_by);
  return enqueue_command(*h, std::move(c), now);
}

inline result<std::string> host_registry::queue_upgrade(std::string_view name, std::string version,
                                                        std::string requested_by, clock::instant now) {
  host* h = find(name);
  if (!h) return make_error("not_found", "no host named " + std::string(name));
  if (!h->has_key())
    return make_error("not_authenticated", "host " + h->name + " has no key: upgrades need hosts.<name>.key");
  command_record c;
  c.upgrade = true;
  c.version = std::move(version);
  c.requested_by = std::move(requested_by);
  return enqueue_command(*h, std::move(c), now);
}

inline std::string host_registry::enqueue_command(host& h, command_record c, clock::instant now) {
  c.id = command_ids_.next();
  c.queued_at = now.wall;
  c.expires_at = now.wall + command_ttl_;
  c.expires_mono = now.mono + command_ttl_;
  h.commands.push_back(std::move(c));
  schedule(h, h.commands.back().expires_mono);
  publish_command(h, h.commands.back(), now.wall);
  return h.commands.back().id;
}

template <class Send>
inline void host_registry::deliver_commands(host& h, bool authenticated, clock::instant now, Send&& send) {
  if (!authenticated || h.commands.empty()) return;
  if (hooks_.dispatch_commands && !hooks_.dispatch_commands()) return;
  touch(h);
  for (auto& c : h.commands) {
    if (!c.pending() || c.expires_mono <= now.mono) continue;
    if (!send(static_cast<const command_record&>(c))) continue;
    bool first = c.state == command_state::queued;
    c.state = command_state::sent;
    c.sent_at = now.wall;
    ++c.sent_count;
    if (first) publish_command(h, c, now.wall);
  }
}

inline void host_registry::on_result(const protocol::result_msg& m, bool, const source&, clock::instant t) {
  const double now = t.wall;
  host* h = find(m.name);
  if (!h) return;
  touch(*h);
  h->last_seen = now;
  for (auto& c : h->commands) {
    if (c.id != m.cmd_id || !c.pending()) continue;
    c.state = command_state::done;
    c.rc = m.rc;
    c.output = m.output;
    c.done_at = now;
    add_message(
        now, h->name,
        std::string(c.upgrade ? "upgrade " : "command ") + c.id + " finished with rc " + std::to_string(m.rc),
        "command");
    publish_command(*h, c, now);
    trim_commands(*h);
    return;
  }
}

}  // namespace heartbeat::server
