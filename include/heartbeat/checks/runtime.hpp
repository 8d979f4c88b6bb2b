// What the runs of every check share on the io thread: the libcurl multi handle, the name
// resolver with its cache, the ICMP identifier counter; and what one run gets (run_context).
// Runs hold the runtime by shared_ptr, so one still pending when hbd stops outlives nothing it uses.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "heartbeat/checks/detail/curl_multi.hpp"
#include "heartbeat/checks/detail/resolve.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::checks {

struct runtime {
  explicit runtime(asio::any_io_executor ex)
      : http(std::make_shared<detail::curl_multi>(ex)),
        resolver(ex),
        ping_id(static_cast<std::uint16_t>(::getpid())) {}
  std::shared_ptr<detail::curl_multi> http;
  detail::resolver resolver;
  std::uint16_t ping_id;  // raw ICMP sockets see every echo reply: each run uses its own identifier
};

struct run_context {
  std::shared_ptr<runtime> rt;
  std::chrono::milliseconds timeout{10000};
};

}  // namespace heartbeat::checks
