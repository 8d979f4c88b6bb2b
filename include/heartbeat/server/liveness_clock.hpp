// The liveness clock: the moment up to which hbd has read everything that reached
// its UDP sockets, the time the monitor judges heartbeats against (LATE, DOWN).
// While the io thread keeps up it is the monotonic now; when the io thread falls
// behind (a stall, a burst that fills the socket buffer) it stays at the last
// moment each socket was seen empty, so a host whose heartbeat sits unread in the
// socket buffer is never judged late for hbd's own lag. Owned by the host
// registry; io thread only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "heartbeat/core/log.hpp"

namespace heartbeat::server {

class liveness_clock {
 public:
  // A backlog that lasts longer than this is sustained overload, not a stall:
  // deadlines are judged again, this far behind now, so a host that really
  // stopped still goes DOWN eventually.
  static constexpr double max_hold = 300.0;
  // Lags up to a monitor tick are the normal cost of batching; longer ones are counted.
  static constexpr double counted_lag = 0.25;
  // A backlog older than this is an episode: counted and logged (at most once a minute).
  static constexpr double episode_lag = 1.0;
  static constexpr double log_every = 60.0;

  // A socket to watch; `empty()` says, without blocking, whether it has nothing to read.
  // `opened` (monotonic): nothing in it is older; without it, a socket never read empty counts
  // as max_hold behind.
  int add_source(std::function<bool()> empty, double opened = -1e300) {
    sources_.push_back({next_id_, std::move(empty), opened});
    return next_id_++;
  }
  void remove_source(int id) {
    std::erase_if(sources_, [id](const source& s) { return s.id == id; });
  }
  // The source's receive loop read it empty (EAGAIN) at monotonic `mono`: every
  // datagram that arrived before then has been handled.
  void drained(int id, double mono) {
    for (auto& s : sources_)
      if (s.id == id) s.empty_at = std::max(s.empty_at, mono);
  }

  // The monitor's tick: the liveness time for monotonic `now`. Never decreases.
  double advance(double now) {
    double live = now;
    for (auto& s : sources_) {
      // Everything read from a socket has been handled by the time the monitor runs
      // (one thread), so a socket empty now vouches for every datagram before now.
      if (s.empty && s.empty()) s.empty_at = std::max(s.empty_at, now);
      live = std::min(live, s.empty_at);
    }
    live = std::max({live, now - max_hold, live_});
    live = std::min(live, now);
    const double lag = now - live;
    // The monitor ticks four times a second: a longer gap is the io thread's own stall.
    if (ticked_ && now - last_now_ > episode_lag) {
      ++stalls_;
      longest_stall_ = std::max(longest_stall_, now - last_now_);
      report(now, "io thread stalled for " + seconds(now - last_now_));
    }
    if (lag > counted_lag && ticked_) held_seconds_ += std::min(lag, now - last_now_);
    if (lag > episode_lag && !in_episode_) {
      in_episode_ = true;
      ++episodes_;
    }
    if (in_episode_) max_episode_lag_ = std::max(max_episode_lag_, lag);
    if (in_episode_ && lag <= counted_lag) {
      in_episode_ = false;
      report(now, "io thread caught up with its sockets after a backlog of " + seconds(max_episode_lag_) +
                      "; LATE/DOWN decisions waited for it");
      max_episode_lag_ = 0;
    } else if (in_episode_ && lag >= max_hold) {
      report(now, "io thread " + seconds(lag) + " behind its sockets; judging LATE/DOWN again regardless");
    } else if (in_episode_) {
      report(now,
             "io thread " + seconds(lag) + " behind its sockets; LATE/DOWN decisions wait for the backlog");
    }
    lag_ = lag;
    live_ = live;
    last_now_ = now;
    ticked_ = true;
    return live;
  }

  double live() const noexcept { return live_; }                    // at the last tick
  double lag() const noexcept { return lag_; }                      // at the last tick
  double held_seconds() const noexcept { return held_seconds_; }    // total time judged behind now
  std::uint64_t episodes() const noexcept { return episodes_; }     // backlogs over episode_lag
  std::uint64_t log_lines() const noexcept { return log_lines_; }   // lines logged so far
  std::uint64_t stalls() const noexcept { return stalls_; }         // ticks late by over episode_lag
  double longest_stall() const noexcept { return longest_stall_; }  // seconds between two ticks

 private:
  struct source {
    int id;
    std::function<bool()> empty;
    double empty_at;  // monotonic: the last moment the socket was known to be empty
  };
  std::vector<source> sources_;
  int next_id_ = 0;
  double live_ = -1e300;
  double last_now_ = 0;
  bool ticked_ = false;
  double lag_ = 0;
  double held_seconds_ = 0;
  std::uint64_t episodes_ = 0;
  std::uint64_t stalls_ = 0;
  double longest_stall_ = 0;
  bool in_episode_ = false;
  double max_episode_lag_ = 0;
  double last_log_ = -1e300;
  std::uint64_t log_lines_ = 0;

  void report(double now, const std::string& text) {
    if (now - last_log_ < log_every) return;
    last_log_ = now;
    ++log_lines_;
    log::warn("monitor: ", text, " (", episodes_, " backlogs so far)");
  }
  static std::string seconds(double s) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f s", s);
    return b;
  }
};

}  // namespace heartbeat::server
