// Stage 4a, escalation: a host or metric with an escalation ladder (notify/escalation.hpp)
// is told step by step instead of by roles. The alert (or host DOWN) that fires opens an
// episode and reaches the steps with `after: 0`; every later step is due `after` seconds
// from then unless the alert was acknowledged or recovered. Changes and reminders go to
// everyone reached so far, the recovery to everyone who was told, and the episode ends.
// Pipeline stage, worker thread; time is passed in.
#pragma once

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "heartbeat/notify/escalation.hpp"
#include "heartbeat/notify/notification.hpp"

namespace heartbeat::notify::stages {

// A recipient under a ladder: a user (on their own channels and settings) or, with `user`
// empty, one notifier channel for everyone on it.
struct recipient {
  std::string user;
  std::string channel;
  bool operator==(const recipient&) const = default;
};

class escalate {
 public:
  explicit escalate(escalation_policy p = {}) : policy_(std::move(p)) {}

  const escalation_policy& policy() const noexcept { return policy_; }

  // Whom `n` goes to under its ladder; nullopt when it has none (routing by roles). An empty
  // list means nobody yet (the ladder's first step comes later).
  std::optional<std::vector<recipient>> recipients(const notification& n, double now) {
    if (!laddered(n.kind)) return std::nullopt;
    const escalation_ladder* l = policy_.for_subject(n.host, n.escalation);
    if (!l) return std::nullopt;
    const std::string key = key_of(n);
    auto it = episodes_.find(key);
    const bool closes = n.kind == kind::host_up || (n.kind == kind::alert && n.level == level::ok);
    if (closes) {
      if (it == episodes_.end()) {
        // Who was told is unknown (e.g. a restart since it fired): the first step's recipients.
        episode scratch;
        if (!l->steps.empty()) reach(scratch, l->steps.front());
        return scratch.told;
      }
      std::vector<recipient> told = std::move(it->second.told);
      episodes_.erase(it);
      return told;
    }
    const bool opens = n.kind == kind::host_down || n.kind == kind::host_stopped;
    if (it == episodes_.end() || opens) {
      episode ep;
      ep.ladder = l->name;
      ep.fired = now;
      ep.last = n;
      std::vector<recipient> now_told;
      while (ep.next < l->steps.size() && l->steps[ep.next].after <= 0) {
        auto more = reach(ep, l->steps[ep.next++]);
        now_told.insert(now_told.end(), more.begin(), more.end());
      }
      episodes_.insert_or_assign(key, std::move(ep));
      return now_told;
    }
    it->second.last = n;
    return it->second.told;
  }

  struct step_due {
    notification n;  // the episode's latest notification, sent again to the new recipients
    std::string ladder;
    std::size_t step = 0;  // 1-based, as the journal names it
    double after = 0;
    std::vector<recipient> to;  // reached by this step
  };

  // The steps whose time has come, in order.
  std::vector<step_due> due(double now) {
    std::vector<step_due> out;
    for (auto it = episodes_.begin(); it != episodes_.end();) {
      episode& ep = it->second;
      const escalation_ladder* l = policy_.find(ep.ladder);
      if (!l) {
        it = episodes_.erase(it);
        continue;
      }
      while (!ep.acknowledged && ep.next < l->steps.size() && ep.fired + l->steps[ep.next].after <= now) {
        const escalation_step& s = l->steps[ep.next++];
        out.push_back({ep.last, ep.ladder, ep.next, s.after, reach(ep, s)});
      }
      ++it;
    }
    return out;
  }

  // An acknowledgement stops the climb of that alert for the rest of its episode. False: no
  // episode of it.
  bool acknowledge(const std::string& host, const std::string& metric_path) {
    auto it = episodes_.find(host + '\x1f' + metric_path);
    if (it == episodes_.end()) return false;
    it->second.acknowledged = true;
    return true;
  }

  double next_due() const {
    double t = std::numeric_limits<double>::infinity();
    for (const auto& [_, ep] : episodes_) {
      const escalation_ladder* l = policy_.find(ep.ladder);
      if (l && !ep.acknowledged && ep.next < l->steps.size())
        t = std::min(t, ep.fired + l->steps[ep.next].after);
    }
    return t;
  }
  std::size_t open_episodes() const noexcept { return episodes_.size(); }

  // A reload: the open episodes of `old` whose ladder still exists carry on under this policy.
  void adopt(escalate&& old) {
    for (auto& [key, ep] : old.episodes_)
      if (policy_.find(ep.ladder)) episodes_.insert_or_assign(key, std::move(ep));
  }

 private:
  struct episode {
    std::string ladder;
    double fired = 0;
    std::size_t next = 0;  // the next step to run
    bool acknowledged = false;
    notification last;
    std::vector<recipient> told;
  };

  static bool laddered(kind k) {
    return k == kind::alert || k == kind::reminder || k == kind::host_down || k == kind::host_up ||
           k == kind::host_stopped;
  }
  static std::string key_of(const notification& n) {
    const bool host_kind =
        n.kind == kind::host_down || n.kind == kind::host_up || n.kind == kind::host_stopped;
    return n.host + '\x1f' + (host_kind ? std::string("(host)") : n.metric_path);
  }
  // Adds the step's recipients not told yet; returns them.
  static std::vector<recipient> reach(episode& ep, const escalation_step& s) {
    std::vector<recipient> added;
    auto add = [&](recipient r) {
      if (std::find(ep.told.begin(), ep.told.end(), r) != ep.told.end()) return;
      ep.told.push_back(r);
      added.push_back(std::move(r));
    };
    for (const auto& c : s.channels) add({"", c});
    for (const auto& u : s.users) add({u, ""});
    return added;
  }

  escalation_policy policy_;
  std::map<std::string, episode> episodes_;
};

}  // namespace heartbeat::notify::stages
