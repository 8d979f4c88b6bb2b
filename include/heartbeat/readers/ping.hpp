// Pure parser behind ping_monitor: the summary of ping(8) output (iputils,
// BSD and BusyBox wording) to RTT and loss. Standard library only (hbc_mini
// shares it); pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "heartbeat/core/json.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::readers {

struct ping_result {
  unsigned transmitted = 0;
  unsigned received = 0;
  double loss_percent = 100;
  std::optional<double> rtt_min, rtt_avg, rtt_max;
  bool parsed = false;  // the statistics line was found
};

inline ping_result parse_ping_output(std::string_view text) {
  ping_result r;
  for_each_line(text, [&](std::string_view line) {
    // "3 packets transmitted, 3 received, 0% packet loss, time 404ms"
    // "3 packets transmitted, 0 received, +3 errors, 100% packet loss"
    // "3 packets transmitted, 3 packets received, 0.0% packet loss" (BSD, BusyBox)
    if (line.find("transmitted") != std::string_view::npos) {
      for (auto part : split(line, ',')) {
        auto f = fields(part);
        if (f.size() < 2) continue;
        if (part.find("transmitted") != std::string_view::npos)
          r.transmitted = static_cast<unsigned>(to_u64(f[0]));
        else if (part.find("received") != std::string_view::npos)
          r.received = static_cast<unsigned>(to_u64(f[0]));
        else if (part.find("packet loss") != std::string_view::npos && f[0].ends_with('%'))
          r.loss_percent = to_double(f[0].substr(0, f[0].size() - 1), 100);
      }
      r.parsed = true;
      return;
    }
    // "rtt min/avg/max/mdev = 0.039/0.039/0.041/0.000 ms" or "round-trip min/avg/max = ..."
    auto eq = line.find(" = ");
    if (eq != std::string_view::npos && line.find("min/avg/max") != std::string_view::npos) {
      auto f = fields(line.substr(eq + 3));
      if (f.empty()) return;
      auto nums = split(f[0], '/');
      if (nums.size() >= 3) {
        double a, b, c;
        if (parse_double(nums[0], a) && parse_double(nums[1], b) && parse_double(nums[2], c)) {
          r.rtt_min = a;
          r.rtt_avg = b;
          r.rtt_max = c;
        }
      }
    }
  });
  return r;
}

// One host's object: reachable, packet_loss_percent, and rtt_ms (average),
// rtt_min_ms, rtt_max_ms when any reply came back.
inline json::value ping_json(const ping_result& r) {
  json::value d = json::value::object();
  d.set("reachable", r.parsed && r.received > 0);
  d.set("packet_loss_percent", r.parsed ? round_to(r.loss_percent) : 100.0);
  if (r.rtt_avg) {
    d.set("rtt_ms", round_to(*r.rtt_avg, 3));
    d.set("rtt_min_ms", round_to(*r.rtt_min, 3));
    d.set("rtt_max_ms", round_to(*r.rtt_max, 3));
  }
  return d;
}

}  // namespace heartbeat::readers
