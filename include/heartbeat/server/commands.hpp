// Command records (CMD and UPD queued for a host, host.hpp): their ids, how
// many finished ones a host keeps, and their JSON form both ways (command
// events, the API, the store). The registry uses them on the io thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/server/host.hpp"

namespace heartbeat::server {

// Command ids "c-<n>", unique across restarts: restored ids are noted first. With several
// hbd nodes each adds its name ("c-<n>-<node>"), so that ids stay unique across nodes.
class command_ids {
 public:
  std::string next() { return "c-" + std::to_string(++last_) + suffix_; }
  void note(std::string_view id) {
    if (id.size() > 2 && id[0] == 'c' && id[1] == '-') {
      std::uint64_t n = 0;
      bool digits = false;
      for (char ch : id.substr(2)) {
        if (ch < '0' || ch > '9') {
          if (ch != '-') return;
          break;  // "-<node>" follows
        }
        n = n * 10 + static_cast<std::uint64_t>(ch - '0');
        digits = true;
      }
      if (digits) last_ = std::max(last_, n);
    }
  }
  void set_node(std::string_view node) { suffix_ = node.empty() ? std::string() : "-" + std::string(node); }

 private:
  std::uint64_t last_ = 0;
  std::string suffix_;
};

// Drops the oldest finished records beyond `kept` (pending ones always stay).
inline void trim_finished(std::vector<command_record>& commands, std::size_t kept) {
  std::size_t finished = 0;
  for (const auto& c : commands) finished += !c.pending();
  if (finished <= kept) return;
  std::size_t drop = finished - kept;
  auto it = std::remove_if(commands.begin(), commands.end(), [&](const command_record& c) {
    if (drop > 0 && !c.pending()) {
      --drop;
      return true;
    }
    return false;
  });
  commands.erase(it, commands.end());
}

inline json::value command_to_json(const std::string& host_name, const command_record& c) {
  json::value args = json::value::array();
  for (const auto& a : c.args) args.push_back(a);
  return json::value::object({{"id", c.id},
                              {"host", host_name},
                              {"type", c.upgrade ? "upgrade" : "command"},
                              {"command", c.command},
                              {"args", std::move(args)},
                              {"version", c.version},
                              {"requested_by", c.requested_by},
                              {"state", to_string(c.state)},
                              {"queued_at", c.queued_at},
                              {"expires_at", c.expires_at},
                              {"sent_at", c.sent_at},
                              {"sent_count", static_cast<double>(c.sent_count)},
                              {"rc", c.rc ? json::value(*c.rc) : json::value()},
                              {"output", c.output},
                              {"done_at", c.done_at}});
}

// A record as command_to_json() wrote it (the store's snapshot); its host is j["host"].
inline command_record command_from_json(const json::value& j) {
  command_record c;
  c.id = j.string_or("id", "");
  c.upgrade = j.string_or("type", "command") == "upgrade";
  c.command = j.string_or("command", "");
  if (const auto* a = j.find("args"))
    for (const auto& x : a->as_array()) c.args.push_back(x.as_string());
  c.version = j.string_or("version", "");
  c.requested_by = j.string_or("requested_by", "");
  c.queued_at = j.number_or("queued_at", 0);
  c.expires_at = j.number_or("expires_at", 0);
  c.sent_at = j.number_or("sent_at", 0);
  c.sent_count = static_cast<std::uint32_t>(j.number_or("sent_count", 0));
  auto st = j.string_or("state", "queued");
  for (auto s : {command_state::queued, command_state::sent, command_state::done, command_state::expired})
    if (st == to_string(s)) c.state = s;
  if (const auto* rc = j.find("rc"); rc && rc->is_number()) c.rc = static_cast<int>(rc->as_number());
  c.output = j.string_or("output", "");
  c.done_at = j.number_or("done_at", 0);
  return c;
}

}  // namespace heartbeat::server
