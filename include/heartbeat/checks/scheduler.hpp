// When each check runs: at absolute deadlines on the monotonic clock (next = last deadline +
// interval), first runs spread over the interval by a hash of the name (no burst at start-up or
// after a reload), at most `max_in_flight` runs at once (the rest wait their turn in deadline
// order), never two runs of one check at once; and how late runs start. One steady_timer on the
// io thread for every check.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::checks {

// Where in its interval a check first runs: a stable fraction of the interval from its name.
inline double spread_offset(std::string_view name, double interval) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return static_cast<double>(h % 1000003ull) / 1000003.0 * interval;
}

class scheduler {
 public:
  // Starts one run of `name`; the owner calls finished(name) when it ends (never from inside launch).
  using launch_fn = std::function<void(const std::string& name)>;

  struct stats {
    std::uint64_t runs = 0;     // runs started on schedule
    std::uint64_t skipped = 0;  // deadlines passed while the previous run was still going
    std::size_t in_flight = 0;
    std::size_t waiting = 0;  // due, waiting for a free slot
  };

  scheduler(asio::any_io_executor ex, std::size_t max_in_flight, launch_fn launch)
      : timer_(ex), max_(std::max<std::size_t>(1, max_in_flight)), launch_(std::move(launch)) {}
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  // Schedules `name` every `interval` seconds, first at mono time `first_due`.
  void add(const std::string& name, double interval, double first_due) {
    entry& e = entries_[name];
    e.interval = interval;
    e.due = first_due;
    ++e.generation;
    heap_.push({first_due, e.generation, name});
    arm();
  }
  // Schedules with the first run spread over the interval from now.
  void add_spread(const std::string& name, double interval) {
    add(name, interval, clock::mono_now() + spread_offset(name, interval));
  }

  // Unschedules `name` (a run already going finishes; finished() then does nothing for it).
  void remove(const std::string& name) { entries_.erase(name); }

  bool running(const std::string& name) const {
    auto it = entries_.find(name);
    return it != entries_.end() && it->second.running;
  }

  // An extra run outside the schedule (the API's "run now"); false when one is going already.
  bool run_now(const std::string& name) {
    auto it = entries_.find(name);
    if (it == entries_.end() || it->second.running) return false;
    it->second.running = true;
    ++in_flight_;
    launch_(name);
    return true;
  }

  // A run of `name` ended: its slot goes to the next waiting one.
  void finished(const std::string& name) {
    if (in_flight_ > 0) --in_flight_;
    if (auto it = entries_.find(name); it != entries_.end()) it->second.running = false;
    while (in_flight_ < max_ && !waiting_.empty()) {
      auto [n, due] = waiting_.front();
      waiting_.pop_front();
      start(n, due, clock::mono_now());
    }
  }

  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

  stats counters() const {
    stats s = stats_;
    s.in_flight = in_flight_;
    s.waiting = waiting_.size();
    return s;
  }

  // The q-quantile (0..1) of how late the last runs started, in seconds.
  double start_delay_quantile(double q) const {
    if (delays_.empty()) return 0;
    std::vector<float> v(delays_.begin(), delays_.end());
    const std::size_t k =
        std::min(v.size() - 1, static_cast<std::size_t>(std::ceil(q * v.size())) - (q > 0 ? 1 : 0));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  }

 private:
  struct entry {
    double interval = 60;
    double due = 0;
    std::uint64_t generation = 0;
    bool running = false;
  };
  struct slot {
    double due;
    std::uint64_t generation;
    std::string name;
    bool operator>(const slot& o) const { return due > o.due; }
  };

  asio::steady_timer timer_;
  std::size_t max_;
  launch_fn launch_;
  std::unordered_map<std::string, entry> entries_;
  std::priority_queue<slot, std::vector<slot>, std::greater<slot>> heap_;
  std::deque<std::pair<std::string, double>> waiting_;
  std::size_t in_flight_ = 0;
  stats stats_;
  std::deque<float> delays_;  // the last runs' start delays (seconds)
  static constexpr std::size_t delays_kept = 20000;
  double armed_for_ = -1;
  bool stopped_ = false;

  void arm() {
    if (stopped_ || heap_.empty()) return;
    const double due = heap_.top().due;
    if (armed_for_ >= 0 && armed_for_ <= due) return;  // already waking up in time
    armed_for_ = due;
    const double wait = std::max(0.0, due - clock::mono_now());
    timer_.expires_after(std::chrono::microseconds(static_cast<long long>(wait * 1e6)));
    timer_.async_wait([this](const asio::error_code& ec) {
      if (ec) return;  // re-armed (a new earliest deadline) or stopped
      armed_for_ = -1;
      tick();
    });
  }

  void tick() {
    const double now = clock::mono_now();
    while (!heap_.empty() && heap_.top().due <= now) {
      slot s = heap_.top();
      heap_.pop();
      auto it = entries_.find(s.name);
      if (it == entries_.end() || it->second.generation != s.generation) continue;
      entry& e = it->second;
      // The next deadline keeps the phase; deadlines missed entirely are skipped, not run in a burst.
      double next = s.due + e.interval;
      if (next <= now) next += e.interval * std::ceil((now - next) / e.interval + 1e-9);
      e.due = next;
      heap_.push({next, e.generation, s.name});
      if (e.running) {
        ++stats_.skipped;
        continue;
      }
      if (in_flight_ < max_)
        start(s.name, s.due, now);
      else
        waiting_.emplace_back(s.name, s.due);
    }
    arm();
  }

  void start(const std::string& name, double due, double now) {
    auto it = entries_.find(name);
    if (it == entries_.end() || it->second.running) return;
    it->second.running = true;
    ++in_flight_;
    ++stats_.runs;
    delays_.push_back(static_cast<float>(std::max(0.0, now - due)));
    if (delays_.size() > delays_kept) delays_.pop_front();
    launch_(name);
  }
};

}  // namespace heartbeat::checks
