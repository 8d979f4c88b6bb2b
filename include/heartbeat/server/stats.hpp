// hbd's own counters (datagrams by result, replies, commands) and gauges that
// worker owners register (queue depths and drops). Written and read on the io
// thread only (ingest, registry, API /metrics), so plain integers suffice;
// gauges registered by workers must themselves be safe to call from the io thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "heartbeat/protocol/messages.hpp"
#include "heartbeat/protocol/reject.hpp"

namespace heartbeat::server {

struct stats {
  // Indexed by protocol::reject's numeric value; index 0 (reject::none) stays 0.
  static constexpr std::size_t max_reject_reasons = protocol::reject_count;

  std::uint64_t datagrams_received = 0;  // every datagram read from a socket
  std::uint64_t datagrams_accepted = 0;  // decoded and applied
  std::uint64_t datagrams_rejected = 0;  // sum of rejected_by_reason
  std::array<std::uint64_t, max_reject_reasons> rejected_by_reason{};
  std::array<std::uint64_t, 8> accepted_by_type{};  // indexed by protocol::msg_type; HTB, PLG, MSG, RES used
  std::uint64_t bytes_received = 0;
  std::uint64_t acks_sent = 0;
  std::uint64_t commands_sent = 0;     // CMD and UPD datagrams sent
  std::uint64_t replies_dropped = 0;   // a reply that could not be sent (socket buffer full, error)
  std::uint64_t unexpected_type = 0;   // a valid server-to-client message sent to us (ACK, CMD...)
  std::uint64_t receive_batches = 0;   // recvmmsg calls that returned data
  std::uint64_t udp_rcvbuf_bytes = 0;  // SO_RCVBUF actually granted (what the kernel reports)
  std::uint64_t reloads = 0;
  std::uint64_t events_published = 0;

  void count_reject(protocol::reject reason) noexcept {
    ++datagrams_rejected;
    auto i = static_cast<std::size_t>(reason);
    if (i < max_reject_reasons) ++rejected_by_reason[i];
  }

  // A gauge: a name (Prometheus style, e.g. "hbd_queue_depth{queue=\"journal\"}"),
  // a help text and a function that reads it.
  struct gauge {
    std::string name;
    std::string help;
    std::function<double()> read;
  };
  void add_gauge(std::string name, std::string help, std::function<double()> read) {
    gauges.push_back({std::move(name), std::move(help), std::move(read)});
  }
  std::vector<gauge> gauges;
};

}  // namespace heartbeat::server
