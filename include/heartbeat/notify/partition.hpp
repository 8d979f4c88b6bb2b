// Partition detection: when a large share of the hosts that were UP goes silent (LATE or
// DOWN) within `window` seconds, the cause is almost always between hbd and them, so one
// PARTITION notification replaces their individual DOWNs (and UPs), which are journaled as
// suppressed. When they come back, one PARTITION OVER; the hosts still DOWN one `window`
// after that are notified one by one. Active checks named as `canaries` that fail mean hbd
// itself is cut off. The `partition` config reader is here too. Pure and clock-free (time
// is passed in as clock::instant: windows, settling and release run on its monotonic face, so
// a step of the system clock neither declares nor ends a partition; the wall face only dates
// the texts); the notifier's service runs it on the io thread, where host events arrive.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/notify/notification.hpp"

namespace heartbeat::notify {

struct partition_config {
  double threshold = 0.3;             // share of UP hosts going LATE/DOWN within `window`; 0 disables
  std::size_t min_hosts = 10;         // only with at least this many UP hosts
  double window = 60;                 // seconds
  std::vector<std::string> canaries;  // active checks whose failure means hbd itself is cut off
  bool enabled() const noexcept { return threshold > 0; }
  // How long a wave of silences (or returns) must pause before it is announced: the counts in
  // the texts are then the whole wave's, not the first host's.
  double settle() const noexcept { return std::min(5.0, window / 4); }
};

// "45s", "7m", "2h 5m": how long a partition lasted, for PARTITION OVER.
inline std::string partition_duration(double s) {
  long long v = std::llround(std::max(0.0, s));
  if (v < 60) return std::to_string(v) + "s";
  if (v < 3600) return std::to_string(v / 60) + "m";
  return std::to_string(v / 3600) + "h" + (v % 3600 >= 60 ? " " + std::to_string(v % 3600 / 60) + "m" : "");
}

class partition_detector {
 public:
  // What tick() announces.
  struct announcement {
    enum class type { partition, over, release } what = type::partition;
    std::string text;                                  // PARTITION / PARTITION OVER text (empty for release)
    std::size_t count = 0, of = 0;                     // hosts silent (back) and hosts that were UP (silent)
    std::vector<std::pair<std::string, double>> down;  // release: hosts still DOWN, with their last heartbeat
  };

  explicit partition_detector(partition_config c = {}) : cfg_(std::move(c)) {}

  const partition_config& config() const noexcept { return cfg_; }
  void configure(partition_config c) {
    cfg_ = std::move(c);
    std::set<std::string> keep(cfg_.canaries.begin(), cfg_.canaries.end());
    std::erase_if(failing_, [&](const std::string& n) { return !keep.count(n); });
  }

  // A host's state as the registry reports it (UP, LATE, DOWN, STOPPED, UNKNOWN). `from` is
  // the state before when the event says so, else the last one seen here.
  // `last_seen` (its last heartbeat, when known, wall time) dates the silence for the DOWN texts
  // of release.
  void observe(const std::string& host, std::string_view state, clock::instant at, std::string_view from = {},
               double last_seen = 0) {
    const double now = at.mono;
    const bool was_counted = counted(host);
    auto [it, fresh] = state_.try_emplace(host, mark::none);
    const mark prev = it->second, next = mark_of(state);
    if (prev == mark::up) --up_;
    if (next == mark::up) ++up_;
    if (phase_ != phase::idle && members_.count(host)) {  // keeps silent_members_ current
      if (prev == mark::up && next != mark::up) ++silent_members_;
      if (prev != mark::up && next == mark::up) --silent_members_;
    }
    it->second = next;
    const bool before_up = from.empty() ? prev == mark::up : from == "UP";
    const bool silent = next == mark::late || next == mark::down;
    const bool went_silent = before_up && silent;
    if (went_silent) {
      recent_.emplace_back(now, host);
      ++recent_count_[host];
    }
    recent_silent_ += static_cast<std::size_t>(counted(host)) - static_cast<std::size_t>(was_counted);
    if (went_silent) {
      since_[host] = last_seen > 0 ? std::min(last_seen, at.wall) : at.wall;
      if (phase_ != phase::idle) {
        if (members_.insert(host).second) ++silent_members_;
        last_join_ = now;
      } else {
        check(now);
      }
    } else if (state == "UP") {
      since_.erase(host);
      if (phase_ != phase::idle && members_.count(host)) last_return_ = now;
    }
  }
  // The host was removed (API): it neither counts nor is held.
  void forget(const std::string& host) {
    if (counted(host)) --recent_silent_;
    recent_count_.erase(host);
    std::erase_if(recent_, [&](const auto& e) { return e.second == host; });
    if (members_.erase(host)) {
      auto st = state_.find(host);
      if (st == state_.end() || st->second != mark::up) --silent_members_;
    }
    if (auto it = state_.find(host); it != state_.end()) {
      if (it->second == mark::up) --up_;
      state_.erase(it);
    }
    since_.erase(host);
    held_.erase(host);
  }

  // An active check reported its state; a failing canary makes any silence a partition.
  void canary(std::string_view check_name, bool ok, clock::instant at) {
    if (std::find(cfg_.canaries.begin(), cfg_.canaries.end(), check_name) == cfg_.canaries.end()) return;
    if (ok)
      failing_.erase(std::string(check_name));
    else if (failing_.insert(std::string(check_name)).second && phase_ == phase::idle)
      check(at.mono);
  }

  // Whether a DOWN (or STOPPED) or UP notification belongs to the partition: journaled as
  // suppressed ("partition"), not sent. An UP is held only when its DOWN was.
  bool hold(const notification& n) {
    if (n.kind == kind::host_up) return held_.erase(n.host) > 0;
    if (n.kind != kind::host_down && n.kind != kind::host_stopped) return false;
    if (phase_ == phase::idle || !members_.count(n.host)) return false;
    held_.insert(n.host);
    return true;
  }

  // Announcements due at `now`; call about once a second.
  std::vector<announcement> tick(clock::instant at) {
    const double now = at.mono;
    std::vector<announcement> out;
    switch (phase_) {
      case phase::idle: check(now); break;
      case phase::forming:
        if (now - last_join_ >= cfg_.settle()) {
          announcement a;
          a.count = members_.size();
          a.of = up_ + silent_members();
          a.text = "PARTITION: " + std::to_string(a.count) + " of " + std::to_string(a.of) +
                   " hosts went silent within " + std::to_string(std::llround(cfg_.window)) +
                   "s - hbd may be cut off from them";
          if (!failing_.empty()) a.text += " (canary " + *failing_.begin() + " failing)";
          out.push_back(std::move(a));
          phase_ = phase::declared;
        }
        break;
      case phase::declared: {
        const std::size_t silent = silent_members();
        const bool most_back = silent == 0 || static_cast<double>(silent) <
                                                  cfg_.threshold * static_cast<double>(members_.size());
        if (failing_.empty() && last_return_ > declared_at_ && most_back &&
            now - last_return_ >= cfg_.settle()) {
          announcement a;
          a.what = announcement::type::over;
          a.of = members_.size();
          a.count = a.of - silent;
          a.text = "PARTITION OVER: " + std::to_string(a.count) + " of " + std::to_string(a.of) +
                   " hosts are back after " + partition_duration(now - first_silence_);
          out.push_back(std::move(a));
          phase_ = phase::ending;
          release_at_ = now + cfg_.window;
        }
        break;
      }
      case phase::ending:
        if (now >= release_at_) {
          announcement a;
          a.what = announcement::type::release;
          for (const auto& h : held_) {
            auto st = state_.find(h);
            if (st != state_.end() && st->second == mark::down) {
              auto s = since_.find(h);
              a.down.emplace_back(h, s == since_.end() ? at.wall : s->second);
            }
          }
          std::sort(a.down.begin(), a.down.end());
          if (!a.down.empty()) out.push_back(std::move(a));
          phase_ = phase::idle;
          members_.clear();
          silent_members_ = 0;
          held_.clear();
          recent_.clear();
          recent_count_.clear();
          recent_silent_ = 0;
        }
        break;
    }
    return out;
  }

  bool active() const noexcept { return phase_ != phase::idle; }
  std::size_t members() const noexcept { return members_.size(); }
  std::size_t up_hosts() const noexcept { return up_; }

 private:
  enum class phase { idle, forming, declared, ending };

  // Members not UP: kept as they change (observe, forget), since a tick that walked a million
  // members four times a second would take the io thread's whole time.
  std::size_t silent_members() const noexcept { return silent_members_; }

  // A host that went silent (from UP) within the window and is not UP again.
  bool counted(const std::string& host) const {
    auto c = recent_count_.find(host);
    if (c == recent_count_.end()) return false;
    auto st = state_.find(host);
    return st != state_.end() && st->second != mark::up;
  }

  // Declares a partition when the hosts silent within `window` reach the threshold. The count is
  // kept up to date as hosts come and go, so this costs O(1) per host event. `now` is monotonic.
  void check(double now) {
    if (!cfg_.enabled()) return;
    while (!recent_.empty() && recent_.front().first < now - cfg_.window) {
      const std::string& h = recent_.front().second;
      const bool was = counted(h);
      if (auto c = recent_count_.find(h); c != recent_count_.end() && --c->second == 0)
        recent_count_.erase(c);
      recent_silent_ -= static_cast<std::size_t>(was) - static_cast<std::size_t>(counted(h));
      recent_.pop_front();
    }
    if (recent_silent_ == 0) return;
    const double base = static_cast<double>(up_ + recent_silent_);
    const bool share = base >= static_cast<double>(cfg_.min_hosts) &&
                       static_cast<double>(recent_silent_) >= cfg_.threshold * base;
    if (!share && failing_.empty()) return;
    std::unordered_set<std::string> silent;
    double first = now;
    for (const auto& [t, h] : recent_)
      if (counted(h) && silent.insert(h).second) first = std::min(first, t);
    phase_ = phase::forming;
    members_ = std::move(silent);
    silent_members_ = members_.size();  // each of them counted(): not UP
    held_.clear();
    first_silence_ = first;
    declared_at_ = now;
    last_join_ = now;
    last_return_ = 0;
  }

  partition_config cfg_;
  // The last state seen of each host, as far as partitions care: a byte, not the state's text.
  enum class mark : std::uint8_t { none, up, late, down, other };
  static mark mark_of(std::string_view state) noexcept {
    return state == "UP"     ? mark::up
           : state == "LATE" ? mark::late
           : state == "DOWN" ? mark::down
                             : mark::other;
  }
  std::unordered_map<std::string, mark> state_;    // host -> last state seen
  std::unordered_map<std::string, double> since_;  // hosts silent since (from UP), wall time
  std::size_t up_ = 0;
  std::deque<std::pair<double, std::string>> recent_;          // UP -> LATE/DOWN within the window (mono)
  std::unordered_map<std::string, std::size_t> recent_count_;  // entries of each host in recent_
  std::size_t recent_silent_ = 0;                              // hosts counted() now
  std::set<std::string> failing_;                              // canaries failing now
  phase phase_ = phase::idle;
  std::unordered_set<std::string> members_;  // the partition's hosts
  std::size_t silent_members_ = 0;           // of them, not UP now
  std::set<std::string> held_;               // members whose DOWN was held back
  // Monotonic times.
  double first_silence_ = 0, declared_at_ = 0, last_join_ = 0, last_return_ = 0, release_at_ = 0;
};

// Reads `partition` from the server config `root`; problems go to `d` with their key paths.
// Canaries are check names: validated against `checks` (a mapping of names, or a list of
// {name}) when the config has one.
inline partition_config read_partition(const json::value& root, config::diagnostics& d) {
  partition_config c;
  const json::value* p = root.is_object() ? root.find("partition") : nullptr;
  if (!p || p->is_null()) return c;
  config::object_reader r(*p, "partition", d);
  r.get("threshold", c.threshold, 0, 1);
  r.get("min_hosts", c.min_hosts, 1, 1e9);
  r.get_duration("window", c.window);
  if (r.has("window") && c.window <= 0) d.error(r.key_path("window"), "must be more than 0 seconds");
  r.get("canaries", c.canaries);
  r.finish();
  if (c.canaries.empty()) return c;
  const json::value* checks = root.find("checks");
  if (!checks || checks->is_null()) {
    d.warn(r.key_path("canaries"), "no `checks` are configured: no canary will ever report");
    return c;
  }
  std::set<std::string> names;
  if (checks->is_object())
    for (const auto& [n, _] : checks->as_object()) names.insert(n);
  else if (checks->is_array())
    for (const auto& e : checks->as_array())
      if (e.is_object()) names.insert(e.string_or("name", ""));
  for (std::size_t i = 0; i < c.canaries.size(); ++i)
    if (!names.count(c.canaries[i]))
      d.error(r.key_path("canaries") + "." + std::to_string(i), "no check named \"" + c.canaries[i] + "\"");
  return c;
}

}  // namespace heartbeat::notify
