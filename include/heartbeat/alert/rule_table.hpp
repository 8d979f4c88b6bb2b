// The compiled threshold rules as the engine reads them on the io thread: rules
// per plugin and leaf path (exact and generic matches), per-host tables with
// threshold profiles applied, RTT rules, watch flags and maintenance windows.
// compile_rules (rules.hpp) builds them at load/reload; immutable afterwards, so
// the notifier may share them from another thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/alert/maintenance.hpp"
#include "heartbeat/alert/template.hpp"
#include "heartbeat/alert/types.hpp"
#include "heartbeat/core/string_map.hpp"

namespace heartbeat::alert {

// `for` / `recover_after`: the condition must hold this long, for this many consecutive samples,
// or (with `of`) for `samples` of the last `of` samples.
struct hold {
  static constexpr std::uint32_t max_of = 32;  // the evaluator keeps the last 32 samples as bits
  double seconds = 0;
  std::uint32_t samples = 0;
  std::uint32_t of = 0;  // 0: consecutive samples
  bool active() const noexcept { return seconds > 0 || samples > 1; }
  bool windowed() const noexcept { return of > 0 && samples > 0; }
};

struct rule {
  std::string path;    // "cpu_monitor.cpu_percent", "nagios_runner.status_code", "rtt.web01"
  std::string source;  // config key path it came from (after profile merging: the default's)
  op oper = op::gt;
  bool has_warning = false, has_critical = false;
  double warning = 0, critical = 0;
  double hysteresis = 0.02;
  // Precomputed recovery thresholds: a level is kept while the value is still beyond these.
  double warning_recover = 0, critical_recover = 0;
  hold raise_hold;           // `for`
  hold recover_hold;         // `recover_after`
  double missing_after = 0;  // seconds without a sample -> UNKNOWN; 0: never
  display_template display;
  bool display_uses_fields = false;
  bool windowed = false;  // an N-of-M hold: the evaluator records every sample's direction

  // Recovery threshold of a threshold under this operator: hysteresis as a fraction
  // of the threshold's magnitude, on the safe side ("90, 10 % -> 81" for >, "5, 10 % -> 5.5" for <).
  double recover_of(double t) const noexcept {
    double d = std::fabs(t) * hysteresis;
    switch (oper) {
      case op::gt:
      case op::ge: return t - d;
      case op::lt:
      case op::le: return t + d;
      default: return t;
    }
  }
  void precompute() noexcept {
    warning_recover = recover_of(warning);
    critical_recover = recover_of(critical);
    windowed = raise_hold.windowed() || recover_hold.windowed();
  }
};

// The rules of one plugin, keyed by their path inside the plugin data ("partitions./.percent").
using heartbeat::string_hash;
using rule_map = string_map<rule>;

struct plugin_rules {
  rule_map by_path;
};

// A resolved match: the rule and, for generic matches, the length of the stripped prefix
// of the leaf's last segment ("check_disk_root" of "check_disk_root_status_code").
struct rule_match {
  const rule* r = nullptr;
  std::uint32_t check_begin = 0, check_len = 0;  // offsets into the leaf path
};

// Exact first; then strips leading underscore-separated segments of the last path segment.
// Allocates only for generic candidates (callers cache the result per leaf path).
inline rule_match match_rule(const plugin_rules& pr, std::string_view leaf_path) {
  rule_match m;
  if (auto it = pr.by_path.find(leaf_path); it != pr.by_path.end()) {
    m.r = &it->second;
    return m;
  }
  std::size_t last_dot = leaf_path.rfind('.');
  std::size_t seg = last_dot == std::string_view::npos ? 0 : last_dot + 1;
  std::string_view parent = leaf_path.substr(0, seg);
  std::string_view name = leaf_path.substr(seg);
  std::string cand;
  for (std::size_t us = name.find('_'); us != std::string_view::npos; us = name.find('_', us + 1)) {
    if (us + 1 >= name.size()) break;
    cand.assign(parent);
    cand.append(name.substr(us + 1));
    if (auto it = pr.by_path.find(std::string_view(cand)); it != pr.by_path.end()) {
      m.r = &it->second;
      m.check_begin = static_cast<std::uint32_t>(seg);
      m.check_len = static_cast<std::uint32_t>(us);
      return m;
    }
  }
  return m;
}

// The rules one host uses: the defaults with its profiles applied.
struct rule_table {
  string_map<plugin_rules> plugins;
  const plugin_rules* plugin(std::string_view name) const noexcept {
    auto it = plugins.find(name);
    return it == plugins.end() ? nullptr : &it->second;
  }
  // "plugin.leaf.path" -> rule (for restores and acks by metric path).
  rule_match match_metric(std::string_view metric_path) const {
    auto dot = metric_path.find('.');
    if (dot == std::string_view::npos) return {};
    const plugin_rules* pr = plugin(metric_path.substr(0, dot));
    if (!pr) return {};
    rule_match m = match_rule(*pr, metric_path.substr(dot + 1));
    return m;
  }
};

struct ruleset {
  double renotify_interval = 3600;  // threshold_renotify_interval; 0: no reminders
  double renotify_backoff = 1;      // threshold_renotify_backoff: each reminder waits this much longer
  double renotify_max = 86400;      // threshold_renotify_max: the longest wait (never below the interval)
  double missing_after = 0;         // threshold_missing_after default for every rule; 0: off
  std::shared_ptr<const rule_table> defaults = std::make_shared<rule_table>();
  // Hosts with a threshold_config: the merged table (shared between hosts with the same list).
  string_map<std::shared_ptr<const rule_table>> host_tables;
  // thresholds.rtt.<host>: exact names first, then globs in config order.
  string_map<rule> rtt_exact;
  std::vector<std::pair<std::string, rule>> rtt_globs;
  // Profiles' own `rtt` rule, per host using them (the last profile with one wins).
  string_map<rule> rtt_profile;
  string_map<bool> host_watch;  // hosts.<h>.watch
  std::vector<maintenance_window> maintenance;

  const rule_table& table_for(std::string_view host) const noexcept {
    auto it = host_tables.find(host);
    return it == host_tables.end() ? *defaults : *it->second;
  }
  const rule* rtt_rule(std::string_view host) const noexcept {
    if (auto it = rtt_exact.find(host); it != rtt_exact.end()) return &it->second;
    if (auto it = rtt_profile.find(host); it != rtt_profile.end()) return &it->second;
    for (const auto& [pat, r] : rtt_globs)
      if (glob_match(pat, host)) return &r;
    return nullptr;
  }
  bool watch(std::string_view host) const noexcept {
    auto it = host_watch.find(host);
    return it == host_watch.end() ? true : it->second;
  }
};

}  // namespace heartbeat::alert
