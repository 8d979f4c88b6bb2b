// Stage 1, watch flag: a host configured (or set through the API) with
// `watch: false` gets no notification at all. Pipeline stage, worker thread.
#pragma once

#include <optional>
#include <string_view>

#include "heartbeat/notify/directory.hpp"

namespace heartbeat::notify::stages {

inline std::optional<std::string_view> check_watch(const notification& n, const directory& dir) {
  if (n.kind == kind::channel_failure || n.host.empty()) return std::nullopt;
  if (!dir.watched(n.host)) return reason::watch;
  return std::nullopt;
}

}  // namespace heartbeat::notify::stages
