// Stage 6, retry: a delivery whose channel reports a recoverable error is tried
// again after an exponential backoff (retry_initial, doubling, capped at
// retry_max) until retry_attempts tries; an unrecoverable error stops at once.
// Nothing sleeps: due deliveries are taken when their time has come. Pipeline
// stage, worker thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "heartbeat/notify/notifier.hpp"

namespace heartbeat::notify::stages {

struct delivery {
  std::uint64_t id = 0;
  std::string user;
  std::string channel;
  notify::message message;
  int attempt = 0;  // tries made so far
  double due = 0;
  std::string fallback_from;  // set when this delivery replaces one on a failed channel
};

class retry {
 public:
  enum class verdict { done, retry_later, give_up };

  retry(int attempts = 4, double initial = 1, double max = 60)
      : attempts_(attempts), initial_(initial), max_(max) {}

  double backoff(int tries_made) const {
    return std::min(max_, initial_ * std::pow(2.0, std::max(0, tries_made - 1)));
  }

  void add(delivery d) {
    auto it = std::upper_bound(pending_.begin(), pending_.end(), d.due,
                               [](double t, const delivery& x) { return t < x.due; });
    pending_.insert(it, std::move(d));
  }

  std::vector<delivery> take_due(double now) {
    auto end = std::find_if(pending_.begin(), pending_.end(), [&](const delivery& d) { return d.due > now; });
    std::vector<delivery> out(std::make_move_iterator(pending_.begin()), std::make_move_iterator(end));
    pending_.erase(pending_.begin(), end);
    return out;
  }

  // After a try (d.attempt already counts it): reschedules or says it is over.
  verdict after(delivery& d, const send_status& s, double now) {
    if (s.ok) return verdict::done;
    if (!s.recoverable || d.attempt >= attempts_) return verdict::give_up;
    d.due = now + backoff(d.attempt);
    add(d);
    return verdict::retry_later;
  }

  double next_due() const {
    return pending_.empty() ? std::numeric_limits<double>::infinity() : pending_.front().due;
  }
  std::size_t size() const { return pending_.size(); }

 private:
  int attempts_;
  double initial_;
  double max_;
  std::vector<delivery> pending_;  // sorted by due
};

}  // namespace heartbeat::notify::stages
