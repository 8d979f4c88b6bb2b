// Stage 3, dedup: the same notification for the same subject (a host's state,
// or one metric of a host) arriving again within `dedup_window`, with nothing
// different sent in between, is suppressed. Flapping WARNING -> OK -> WARNING
// is not a duplicate. Pipeline stage, worker thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "heartbeat/notify/notification.hpp"

namespace heartbeat::notify::stages {

class dedup {
 public:
  explicit dedup(double window = 60) : window_(window) {}

  std::optional<std::string_view> check(const notification& n, double now) {
    if (n.kind == kind::channel_failure || n.kind == kind::digest || n.kind == kind::partition)
      return std::nullopt;
    bool host_kind = n.kind == kind::host_down || n.kind == kind::host_up || n.kind == kind::host_stopped;
    std::string subject = n.host + '\x1f' + (host_kind ? std::string("(host)") : n.metric_path);
    std::string key = std::string(to_string(n.kind)) + '\x1f' + to_string(n.level);
    // Reminders repeat on purpose; only an identical reminder text is a duplicate.
    if (n.kind == kind::reminder) key += '\x1f' + n.text;
    if (seen_.size() > 100000) prune(now);
    auto [it, fresh] = seen_.try_emplace(subject, entry{key, now});
    if (fresh) return std::nullopt;
    if (it->second.key == key && now - it->second.at < window_) return reason::dedup;
    it->second = {key, now};
    return std::nullopt;
  }

  std::size_t size() const { return seen_.size(); }

 private:
  struct entry {
    std::string key;
    double at;
  };
  void prune(double now) {
    for (auto it = seen_.begin(); it != seen_.end();)
      it = now - it->second.at >= window_ ? seen_.erase(it) : std::next(it);
  }
  double window_;
  std::unordered_map<std::string, entry> seen_;
};

}  // namespace heartbeat::notify::stages
