// Stage 7, fallback: when a channel has finally failed a delivery (retries
// exhausted or an unrecoverable error), the message goes to the user's other
// channels (their `fallback_channels`, else the rest of their
// notification_channels that did not already carry it), and the user gets an
// alert about the failing channel itself, at most once per
// channel_alert_interval per channel. Pipeline stage, worker thread.
#pragma once

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "heartbeat/notify/stages/retry.hpp"

namespace heartbeat::notify::stages {

class fallback {
 public:
  explicit fallback(double alert_interval = 3600) : interval_(alert_interval) {}

  struct plan {
    std::vector<std::string> resend_on;  // channels that get the failed message
    std::vector<std::string> alert_on;   // channels that get the "notifier failed" alert
  };

  // `candidates`: the recipient's other usable channels, in order; `carried`:
  // those that already carried this message (no duplicate there).
  plan on_failure(const delivery& d, const std::vector<std::string>& candidates,
                  const std::vector<std::string>& carried, double now) {
    plan p;
    auto contains = [](const std::vector<std::string>& v, const std::string& x) {
      for (const auto& e : v)
        if (e == x) return true;
      return false;
    };
    for (const auto& c : candidates) {
      if (c == d.channel || c == d.fallback_from) continue;
      if (d.fallback_from.empty() && !contains(carried, c)) p.resend_on.push_back(c);
      p.alert_on.push_back(c);
    }
    auto it = last_alert_.find(d.channel);
    if (it != last_alert_.end() && now - it->second < interval_)
      p.alert_on.clear();
    else if (!p.alert_on.empty())
      last_alert_[d.channel] = now;
    failing_[d.channel] = true;
    return p;
  }

  void on_success(const std::string& channel) {
    failing_[channel] = false;
    // A channel that works again may alert again when it next breaks.
    last_alert_.erase(channel);
  }

  bool failing(const std::string& channel) const {
    auto it = failing_.find(channel);
    return it != failing_.end() && it->second;
  }

 private:
  double interval_;
  std::map<std::string, double> last_alert_;
  std::map<std::string, bool> failing_;
};

// "NOTIFIER FAILED: mail (email) - <error>".
inline std::string channel_failure_text(const std::string& channel, const std::string& slug,
                                        const std::string& error) {
  return "NOTIFIER FAILED: " + channel + " (" + slug + ") - " + error;
}

}  // namespace heartbeat::notify::stages
