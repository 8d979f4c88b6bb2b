// The delivery pipeline: watch flag -> maintenance -> dedup -> routing (by roles,
// or by the host's escalation ladder) -> per-user rate limit (digests) -> retry
// with backoff -> fallback + channel alert; ladder steps come due on tick().
// Every send, suppression and escalation is journaled and counted.
// Single-threaded (the notifier's worker thread) and clock-free: time is passed
// in, sends are synchronous calls of the channels.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/notify/directory.hpp"
#include "heartbeat/notify/gate.hpp"
#include "heartbeat/notify/notifier.hpp"
#include "heartbeat/notify/stages/dedup.hpp"
#include "heartbeat/notify/stages/escalate.hpp"
#include "heartbeat/notify/stages/fallback.hpp"
#include "heartbeat/notify/stages/maintenance.hpp"
#include "heartbeat/notify/stages/rate_limit.hpp"
#include "heartbeat/notify/stages/retry.hpp"
#include "heartbeat/notify/stages/route.hpp"
#include "heartbeat/notify/stages/watch.hpp"

namespace heartbeat::notify {

// Results per channel (and reason), for /metrics. Written by the worker,
// read by the io thread when /metrics is scraped: a mutex, off the ingest path.
class counters {
 public:
  void add(std::string_view channel, outcome o, std::string_view why = {}) {
    std::lock_guard lk(m_);
    ++c_[{std::string(channel.empty() ? "none" : channel), to_string(o), std::string(why)}];
  }
  std::uint64_t get(std::string_view channel, outcome o, std::string_view why = {}) const {
    std::lock_guard lk(m_);
    auto it = c_.find({std::string(channel.empty() ? "none" : channel), to_string(o), std::string(why)});
    return it == c_.end() ? 0 : it->second;
  }
  std::uint64_t total(outcome o) const {
    std::lock_guard lk(m_);
    std::uint64_t n = 0;
    for (const auto& [k, v] : c_)
      if (std::get<1>(k) == to_string(o)) n += v;
    return n;
  }
  // Prometheus text: heartbeat_notifications_total{channel,result[,reason]}.
  std::string prometheus() const {
    std::lock_guard lk(m_);
    std::string out =
        "# HELP heartbeat_notifications_total Notifications by channel and result.\n"
        "# TYPE heartbeat_notifications_total counter\n";
    for (const auto& [k, v] : c_) {
      out += "heartbeat_notifications_total{channel=\"" + escape(std::get<0>(k)) + "\",result=\"" +
             std::get<1>(k) + "\"";
      if (!std::get<2>(k).empty()) out += ",reason=\"" + metric_label(std::get<2>(k)) + "\"";
      out += "} " + std::to_string(v) + "\n";
    }
    return out;
  }

 private:
  static std::string escape(const std::string& s) {
    std::string o;
    for (char c : s) {
      if (c == '\\' || c == '"') o += '\\';
      if (c == '\n') {
        o += "\\n";
        continue;
      }
      o += c;
    }
    return o;
  }
  mutable std::mutex m_;
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> c_;
};

class pipeline {
 public:
  pipeline(const settings& s, std::vector<channel> chans, journal_fn journal, counters* ctr = nullptr)
      : policy_(s.policy),
        dir_(s),
        maintenance_(s.maintenance),
        dedup_(s.policy.dedup_window),
        rate_(s.policy.rate_limit_count, s.policy.rate_limit_window),
        retry_(s.policy.retry_attempts, s.policy.retry_initial, s.policy.retry_max),
        fallback_(s.policy.channel_alert_interval),
        escalate_(s.escalations),
        journal_(std::move(journal)),
        counters_(ctr ? ctr : &own_counters_) {
    for (auto& c : chans) {
      const notifier_config* cfg = s.find_notifier(c.name());
      if (!cfg || cfg->enabled) enabled_.push_back(c.name());
      channels_.emplace(c.name(), std::move(c));
    }
  }

  // With several nodes: whether this node may send now (checked before every try), and what to
  // call when every delivery of a notification has ended (the outbox marks it sent).
  void set_gate(std::function<bool()> may_send, std::function<void(const std::string& id)> settled) {
    may_send_ = std::move(may_send);
    settled_ = std::move(settled);
  }
  // Whether deliveries of notification `id` are still pending here.
  bool in_flight(const std::string& id) const { return outstanding_.count(id) > 0; }

  directory& dir() { return dir_; }
  stages::maintenance& maintenance() { return maintenance_; }
  stages::escalate& escalation() { return escalate_; }
  counters& stats() { return *counters_; }

  // Stages 1-5 for one notification; deliveries are scheduled for `now` and
  // sent by the next tick(). Maintenance windows and quiet hours are calendar
  // times (the wall face of `now`); dedup and rate-limit windows, escalation
  // steps, retries and channel-failure alerts are timed on the monotonic face,
  // and journal records are stamped with the wall one.
  void process(const notification& n, clock::instant now) {
    run_stages(n, now);
    if (!n.id.empty() && !outstanding_.count(n.id)) settle(n.id);  // nothing left to send
  }

  // An alert was acknowledged: its ladder climbs no further.
  void acknowledge(const std::string& host, const std::string& metric_path) {
    escalate_.acknowledge(host, metric_path);
  }

  // Ladder steps that came due, digests whose window ended, then every delivery that is due
  // (sending it).
  void tick(clock::instant now) {
    const double wall = now.wall;
    for (auto& step : escalate_.due(now.mono)) {
      journal_record r;
      r.ts = wall;
      r.outcome = outcome::escalated;
      r.reason = "escalated: step " + std::to_string(step.step) + " after " + format_seconds(step.after) +
                 ", not acknowledged";
      r.host = step.n.host;
      r.kind = step.n.kind;
      r.level = step.n.level;
      r.text = step.n.text;
      r.metric_path = step.n.metric_path;
      r.id = step.n.id;
      if (journal_) journal_(r);
      // The host may have entered maintenance (or lost its watch flag) since the alert fired.
      if (auto why = stages::check_watch(step.n, dir_)) {
        suppress(step.n, wall, "", "", *why);
        continue;
      }
      if (auto why = maintenance_.check(step.n, wall)) {
        suppress(step.n, wall, "", "", *why);
        continue;
      }
      auto routes = routes_to(step.n, step.to, wall);
      if (!routes.empty()) deliver(step.n, routes, now);
    }
    for (auto& d : rate_.due(now.mono)) {
      auto [title, body] =
          stages::digest_text(d.user, d.items, policy_.rate_limit_window, policy_.digest_max_lines);
      message m;
      m.title = title;
      m.body = body;
      m.digest = true;
      m.source = d.items.front();
      m.source.kind = kind::digest;
      m.source.text = title;
      m.items = std::move(d.items);
      for (const auto& c : channels_of(d.user)) schedule(d.user, c, m, now.mono, "");
    }
    for (;;) {
      auto due = retry_.take_due(now.mono);
      if (due.empty()) break;
      for (auto& d : due) attempt(std::move(d), now);
    }
  }

  // Monotonic time of the next delivery, digest or escalation step.
  double next_due() const { return std::min({retry_.next_due(), rate_.next_due(), escalate_.next_due()}); }
  bool idle() const {
    return retry_.size() == 0 && rate_.next_due() == std::numeric_limits<double>::infinity();
  }

 private:
  void settle(const std::string& id) {
    if (abandoned_.erase(id)) return;  // a later leader sends it again
    if (settled_) settled_(id);
  }
  // One delivery of a notification ended.
  void finished(const std::string& id) {
    auto it = outstanding_.find(id);
    if (it == outstanding_.end()) return;
    if (--it->second > 0) return;
    outstanding_.erase(it);
    settle(id);
  }

  void run_stages(const notification& n, clock::instant now) {
    const double wall = now.wall;
    if (auto why = stages::check_watch(n, dir_)) return suppress(n, wall, "", "", *why);
    if (auto why = maintenance_.check(n, wall)) return suppress(n, wall, "", "", *why);
    if (auto why = dedup_.check(n, now.mono)) return suppress(n, wall, "", "", *why);
    std::vector<stages::route> routes;
    if (auto to = escalate_.recipients(n, now.mono)) {
      if (to->empty()) return suppress(n, wall, "", "", reason::ladder_later);
      routes = routes_to(n, *to, wall);
    } else {
      routes = stages::route_notification(n, dir_, enabled_, wall);
    }
    if (routes.empty()) return suppress(n, wall, "", "", reason::no_recipient);
    deliver(n, routes, now);
  }

  void deliver(const notification& n, const std::vector<stages::route>& routes, clock::instant now) {
    for (const auto& r : routes) {
      if (!r.suppressed.empty()) {
        for (const auto& c : r.channels) suppress(n, now.wall, r.user, c, r.suppressed);
        continue;
      }
      if (!rate_.admit(r.user, n, now.mono)) {
        for (const auto& c : r.channels) suppress(n, now.wall, r.user, c, reason::rate_limited);
        continue;
      }
      message m = make_message(n);
      for (const auto& c : r.channels) schedule(r.user, c, m, now.mono, "");
    }
  }

  // A ladder's recipients as routes: channels for everyone on them (one route), users on their
  // own channels with their severity filter and quiet hours (`wall`: calendar time).
  std::vector<stages::route> routes_to(const notification& n, const std::vector<stages::recipient>& to,
                                       double now) {
    std::vector<stages::route> out;
    stages::route everyone{"", {}, {}};
    for (const auto& r : to) {
      if (r.user.empty()) {
        if (usable(r.channel)) everyone.channels.push_back(r.channel);
        continue;
      }
      const user_settings* u = dir_.find_user(r.user);
      if (!u) {
        suppress(n, now, r.user, "", reason::no_recipient);
        continue;
      }
      stages::route rt = stages::route_to_user(n, *u, enabled_, now);
      if (!rt.channels.empty()) out.push_back(std::move(rt));
    }
    if (!everyone.channels.empty()) out.insert(out.begin(), std::move(everyone));
    return out;
  }

  std::vector<std::string> channels_of(const std::string& user) const {
    if (user.empty()) return enabled_;
    std::vector<std::string> out;
    if (const user_settings* u = dir_.find_user(user))
      for (const auto& c : u->channels)
        if (usable(c)) out.push_back(c);
    return out;
  }
  bool usable(const std::string& c) const {
    for (const auto& e : enabled_)
      if (e == c) return true;
    return false;
  }

  // `due` is monotonic time.
  void schedule(const std::string& user, const std::string& chan, message m, double due, std::string from) {
    auto it = channels_.find(chan);
    if (it == channels_.end()) return;
    m.user = user;
    m.user_settings = json::value();
    if (const user_settings* u = dir_.find_user(user))
      if (const json::value* us = u->settings_for(it->second.slug())) m.user_settings = *us;
    stages::delivery d;
    d.id = ++next_id_;
    d.user = user;
    d.channel = chan;
    d.message = std::move(m);
    d.due = due;
    d.fallback_from = std::move(from);
    if (!d.message.source.id.empty()) ++outstanding_[d.message.source.id];
    retry_.add(std::move(d));
  }

  void attempt(stages::delivery d, clock::instant t) {
    auto it = channels_.find(d.channel);
    const double now = t.wall;
    const std::string id = d.message.source.id;
    if (it == channels_.end()) return finished(id);
    if (may_send_ && !may_send_()) {
      // No longer the leader: the outbox entry stays unsent for the node that is.
      if (!id.empty()) abandoned_.insert(id);
      record(d, now, outcome::suppressed, std::string(follower_reason), "");
      return finished(id);
    }
    ++d.attempt;
    send_status st = it->second.notify(d.message);
    switch (retry_.after(d, st, t.mono)) {
      case stages::retry::verdict::done:
        fallback_.on_success(d.channel);
        record(d, now, outcome::sent, d.fallback_from.empty() ? "" : "fallback for " + d.fallback_from, "");
        return finished(id);
      case stages::retry::verdict::retry_later:
        record(d, now, outcome::retried, "retry in " + format_seconds(retry_.backoff(d.attempt)), st.error);
        return;
      case stages::retry::verdict::give_up: break;
    }
    record(d, now, outcome::failed, st.recoverable ? "retries exhausted" : "unrecoverable", st.error);
    struct end_of_delivery {
      pipeline* p;
      const std::string& id;
      ~end_of_delivery() { p->finished(id); }  // after any fallback deliveries are scheduled
    } ending{this, id};
    if (d.message.source.kind == kind::channel_failure) return;  // no alerts about alerts
    // Candidates: the user's fallback channels first, then their other channels.
    std::vector<std::string> candidates, carried;
    if (d.user.empty()) {
      candidates = enabled_;
      carried = enabled_;
    } else if (const user_settings* u = dir_.find_user(d.user)) {
      for (const auto& c : u->fallback_channels)
        if (usable(c)) candidates.push_back(c);
      for (const auto& c : u->channels)
        if (usable(c)) {
          candidates.push_back(c);
          carried.push_back(c);
        }
    }
    auto plan = fallback_.on_failure(d, candidates, carried, t.mono);
    for (const auto& c : plan.resend_on) {
      record(d, now, outcome::fell_back, "to " + c, st.error);
      schedule(d.user, c, d.message, t.mono, d.channel);
    }
    if (!plan.alert_on.empty()) {
      notification a;
      a.kind = kind::channel_failure;
      a.level = a.severity = level::critical;
      a.text = stages::channel_failure_text(d.channel, it->second.slug(), st.error);
      a.ts = now;
      a.to = d.channel;
      a.id = new_notification_id();
      message m = make_message(a);
      for (const auto& c : plan.alert_on) schedule(d.user, c, m, t.mono, d.channel);
    }
  }

  void record(const stages::delivery& d, double now, outcome o, std::string why, std::string error) {
    counters_->add(d.channel, o);
    if (!journal_) return;
    journal_record r;
    r.ts = now;
    r.outcome = o;
    r.reason = std::move(why);
    r.channel = d.channel;
    r.user = d.user;
    r.host = d.message.source.host;
    r.kind = d.message.source.kind;
    r.level = d.message.source.level;
    r.text = d.message.title;
    r.error = std::move(error);
    r.attempt = d.attempt;
    r.metric_path = d.message.source.metric_path;
    r.id = d.message.source.id;
    journal_(r);
  }

  void suppress(const notification& n, double now, const std::string& user, const std::string& chan,
                std::string_view why) {
    counters_->add(chan, outcome::suppressed, why);
    if (!journal_) return;
    journal_record r;
    r.ts = now;
    r.outcome = outcome::suppressed;
    r.reason = std::string(why);
    r.channel = chan;
    r.user = user;
    r.host = n.host;
    r.kind = n.kind;
    r.level = n.level;
    r.text = n.text;
    r.metric_path = n.metric_path;
    r.id = n.id;
    journal_(r);
  }

  policy policy_;
  directory dir_;
  stages::maintenance maintenance_;
  stages::dedup dedup_;
  stages::rate_limit rate_;
  stages::retry retry_;
  stages::fallback fallback_;
  stages::escalate escalate_;
  journal_fn journal_;
  counters own_counters_;
  counters* counters_;
  std::map<std::string, channel> channels_;
  std::vector<std::string> enabled_;  // config order
  std::uint64_t next_id_ = 0;
  std::function<bool()> may_send_;
  std::function<void(const std::string&)> settled_;
  std::map<std::string, int> outstanding_;  // notification id -> deliveries not ended yet
  std::set<std::string> abandoned_;         // ids whose deliveries stopped when leadership ended
};

}  // namespace heartbeat::notify
