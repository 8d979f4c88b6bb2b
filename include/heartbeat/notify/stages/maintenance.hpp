// Stage 2, maintenance: nothing is sent for a host inside one of its
// maintenance windows: the config's `maintenance` list read by the alert
// engine's parser and tested with alert::window_covering (recurring windows and
// host globs included), or a check the server installs from the alert engine's
// live rules. Pipeline stage, worker thread.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "heartbeat/notify/settings.hpp"

namespace heartbeat::notify::stages {

class maintenance {
 public:
  using check_fn = std::function<bool(const std::string& host, double now)>;

  maintenance() = default;
  explicit maintenance(std::vector<maintenance_window> w) : windows_(std::move(w)) {}

  void set_windows(std::vector<maintenance_window> w) { windows_ = std::move(w); }
  // An extra predicate (e.g. the alert engine's compiled windows); must be
  // callable on the worker thread.
  void set_check(check_fn f) { check_ = std::move(f); }

  std::optional<std::string_view> check(const notification& n, double now) const {
    if (n.kind == kind::channel_failure || n.host.empty()) return std::nullopt;
    if (alert::window_covering(windows_, n.host, now)) return reason::maintenance;
    if (check_ && check_(n.host, now)) return reason::maintenance;
    return std::nullopt;
  }

 private:
  std::vector<maintenance_window> windows_;
  check_fn check_;
};

}  // namespace heartbeat::notify::stages
