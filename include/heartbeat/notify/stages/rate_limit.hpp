// Stage 5, per-user rate limit: at most `count` notifications per user and
// window; the rest are held and, when the window ends, folded into one digest
// message. Pipeline stage, worker thread; time is passed in.
#pragma once

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "heartbeat/notify/notification.hpp"

namespace heartbeat::notify::stages {

class rate_limit {
 public:
  rate_limit(int count = 5, double window = 60) : count_(count), window_(window) {}

  // True: send now. False: held for the user's next digest.
  bool admit(const std::string& user, const notification& n, double now) {
    auto& b = buckets_[user];
    if (now - b.start >= window_ && b.held.empty()) {
      b.start = now;
      b.sent = 0;
    }
    if (b.sent < count_) {
      ++b.sent;
      return true;
    }
    b.held.push_back(n);
    return false;
  }

  struct digest {
    std::string user;
    std::vector<notification> items;
  };

  // Digests whose window has ended; the next window starts now.
  std::vector<digest> due(double now) {
    std::vector<digest> out;
    for (auto& [user, b] : buckets_) {
      if (b.held.empty() || now - b.start < window_) continue;
      out.push_back({user, std::move(b.held)});
      b.held.clear();
      b.start = now;
      b.sent = 0;
    }
    return out;
  }

  double next_due() const {
    double t = std::numeric_limits<double>::infinity();
    for (const auto& [_, b] : buckets_)
      if (!b.held.empty()) t = std::min(t, b.start + window_);
    return t;
  }

 private:
  struct bucket {
    double start = -std::numeric_limits<double>::infinity();
    int sent = 0;
    std::vector<notification> held;
  };
  int count_;
  double window_;
  std::map<std::string, bucket> buckets_;
};

// The digest's text: a headline, then one line per folded notification.
inline std::pair<std::string, std::string> digest_text(const std::string& user,
                                                       const std::vector<notification>& items, double window,
                                                       int max_lines) {
  std::string title = "DIGEST: " + std::to_string(items.size()) + " more notification" +
                      (items.size() == 1 ? "" : "s") + (user.empty() ? "" : " for " + user) +
                      " in the last " + format_seconds(window);
  std::string body = title + "\n\n";
  int n = 0;
  for (const auto& it : items) {
    if (n++ == max_lines) {
      body += "... and " + std::to_string(items.size() - static_cast<std::size_t>(max_lines)) + " more\n";
      break;
    }
    body += it.text + "\n";
  }
  return {title, body};
}

}  // namespace heartbeat::notify::stages
