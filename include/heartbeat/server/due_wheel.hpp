// The registry's due wheel: when the monitor next looks at each host, in
// quarter-second slots with at most one entry per host (host::due_slot), so a
// tick visits only the hosts whose deadline has come. Owned by the registry on
// the io thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "heartbeat/server/host.hpp"

namespace heartbeat::server {

class due_wheel {
 public:
  static constexpr double slot_width = 0.25;   // seconds per slot (the monitor's period)
  static constexpr std::size_t slots = 16384;  // 68 minutes ahead; later deadlines are re-checked

  explicit due_wheel(double now) : wheel_(slots), done_(slot_of(now) - 1) {}

  // Asks for a visit to `h` once `when` has come. One entry per host: a later
  // deadline than the pending one waits for that visit (which reschedules), an
  // earlier one moves the entry.
  void schedule(host& h, double when) {
    std::int64_t slot = std::clamp(slot_of(when), done_ + 1, done_ + static_cast<std::int64_t>(slots) - 1);
    if (h.due_slot > done_) {
      if (h.due_slot <= slot) return;
      unschedule(h);
    }
    h.due_slot = slot;
    wheel_[static_cast<std::size_t>(slot) & (slots - 1)].push_back(&h);
  }
  void unschedule(host& h) {
    if (h.due_slot > done_) std::erase(wheel_[static_cast<std::size_t>(h.due_slot) & (slots - 1)], &h);
    h.due_slot = -1;
  }
  // Takes `h` out of the wheel, also out of the slot being visited (the host is going away).
  void forget(host& h) {
    unschedule(h);
    std::replace(due_.begin(), due_.end(), &h, static_cast<host*>(nullptr));
  }

  // Calls visit(host&) for every host whose slot has come by `now`, slot by
  // slot; `visit` may schedule the host again, even into the slot being visited.
  template <class Visit>
  void run(double now, Visit&& visit) {
    const std::int64_t target = slot_of(now);
    const std::int64_t from = std::max(done_ + 1, target - static_cast<std::int64_t>(slots) + 1);
    for (std::int64_t slot = from; slot <= target; ++slot) {
      auto& bucket = wheel_[static_cast<std::size_t>(slot) & (slots - 1)];
      due_.swap(bucket);
      done_ = slot;
      for (std::size_t i = 0; i < due_.size(); ++i) {
        host* h = due_[i];
        if (!h) continue;  // forgotten meanwhile
        h->due_slot = -1;
        visit(*h);
      }
      due_.clear();
    }
    done_ = std::max(done_, target);
  }

 private:
  static std::int64_t slot_of(double t) { return static_cast<std::int64_t>(std::floor(t / slot_width)); }

  std::vector<std::vector<host*>> wheel_;  // slot % slots -> hosts due then
  std::int64_t done_;                      // the last slot run() went through
  std::vector<host*> due_;                 // the bucket being visited
};

}  // namespace heartbeat::server
