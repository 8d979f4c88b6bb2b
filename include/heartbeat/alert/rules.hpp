// Threshold rules compiled once from the configuration tree (`thresholds`,
// `threshold_configs`, `threshold_renotify_interval`, `threshold_missing_after`,
// `maintenance`, `hosts.<h>.threshold_config` / `watch`), with every error
// reported by key path. Built at load/reload (any thread), then read-only on the
// io thread by the engine.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "heartbeat/alert/maintenance.hpp"
#include "heartbeat/alert/template.hpp"
#include "heartbeat/alert/types.hpp"
#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/string_map.hpp"

namespace heartbeat::alert {

// `for` / `recover_after`: the condition must hold this long or for this many consecutive samples.
struct hold {
  double seconds = 0;
  std::uint32_t samples = 0;
  bool active() const noexcept { return seconds > 0 || samples > 1; }
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

namespace detail {

inline bool is_rule_node(const json::value& v) noexcept {
  return v.is_object() && (v.contains("warning") || v.contains("critical") || v.contains("operator"));
}

// Objects merge key by key (later wins, null deletes); anything else replaces.
inline void deep_merge(json::value& into, const json::value& from) {
  if (!into.is_object() || !from.is_object()) {
    into = from;
    return;
  }
  for (const auto& [k, v] : from.as_object()) {
    if (v.is_null()) {
      into.erase(k);
      continue;
    }
    json::value* cur = into.find(k);
    if (cur && cur->is_object() && v.is_object())
      deep_merge(*cur, v);
    else
      into.set(k, v);
  }
}

// A `for` / `recover_after` value: seconds (number or "30s", "5m") or samples ("3 samples", "3x").
inline std::optional<hold> parse_hold(const json::value& v) {
  hold h;
  if (v.is_string()) {
    const std::string& s = v.as_string();
    std::size_t i = 0;
    std::uint32_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') n = n * 10 + static_cast<std::uint32_t>(s[i++] - '0');
    if (i > 0 && i < s.size()) {
      std::string_view rest(s.data() + i, s.size() - i);
      if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
      if (rest == "x" || rest == "samples" || rest == "sample") {
        if (n == 0) return std::nullopt;
        h.samples = n;
        return h;
      }
    }
  }
  auto d = config::parse_duration(v);
  if (!d) return std::nullopt;
  h.seconds = *d;
  return h;
}

// One problem found while compiling a thresholds tree: `rel` is the path below the tree root.
struct rule_error {
  std::string rel;
  std::string message;
};

// Compiles one rule node. Errors are appended to `errs` with paths relative to the tree.
inline std::optional<rule> compile_rule(const json::value& node, const std::string& rel,
                                        const std::string& metric, bool allow_fields, double default_missing,
                                        std::vector<rule_error>& errs, config::diagnostics& warnings,
                                        const std::string& abs) {
  rule r;
  r.path = metric;
  r.source = abs;
  r.missing_after = default_missing;
  bool ok = true;
  auto err = [&](std::string_view key, std::string msg) {
    errs.push_back({key.empty() ? rel : config::join_path(rel, key), std::move(msg)});
    ok = false;
  };
  std::vector<std::string_view> known = {"warning", "critical",      "operator", "hysteresis",
                                         "display", "recover_after", "for",      "missing_after"};
  for (const auto& [k, v] : node.as_object()) {
    bool seen = false;
    for (auto kk : known) seen = seen || k == kk;
    if (!seen) warnings.warn(config::join_path(abs, k), "unknown key (ignored)");
  }
  bool bad_op = false;
  if (const json::value* o = node.find("operator"); o && !o->is_null()) {
    auto p = o->is_string() ? parse_op(o->as_string()) : std::nullopt;
    if (!p) {
      err("operator", "unknown operator " + (o->is_string() ? "\"" + o->as_string() + "\"" : o->dump()) +
                          " (use >, >=, <, <=, ==, != or nagios)");
      bad_op = true;
    } else {
      r.oper = *p;
    }
  }
  auto number = [&](std::string_view key, bool& has, double& out) {
    const json::value* v = node.find(key);
    if (!v || v->is_null()) return;
    if (!v->is_number() || !std::isfinite(v->as_number()))
      return err(key, "must be a number, not " + v->dump());
    has = true;
    out = v->as_number();
  };
  number("warning", r.has_warning, r.warning);
  number("critical", r.has_critical, r.critical);
  if (const json::value* h = node.find("hysteresis"); h && !h->is_null()) {
    if (!h->is_number() || h->as_number() < 0 || h->as_number() > 1)
      err("hysteresis", "must be a fraction between 0 and 1 (0.02 = 2 %), not " + h->dump());
    else
      r.hysteresis = h->as_number();
  }
  if (r.oper == op::nagios) {
    if (r.has_warning || r.has_critical)
      err(r.has_warning ? "warning" : "critical",
          "the nagios operator maps exit codes to levels; warning/critical are not used");
  } else if (ok && !r.has_warning && !r.has_critical) {
    err("", "needs warning and/or critical (or operator: nagios)");
  } else if (r.has_warning && r.has_critical && !bad_op) {
    if ((r.oper == op::gt || r.oper == op::ge) && !(r.warning < r.critical))
      err("warning", "warning (" + format_value(r.warning) + ") must be below critical (" +
                         format_value(r.critical) + ") for operator " + to_string(r.oper));
    if ((r.oper == op::lt || r.oper == op::le) && !(r.warning > r.critical))
      err("warning", "warning (" + format_value(r.warning) + ") must be above critical (" +
                         format_value(r.critical) + ") for operator " + to_string(r.oper));
    if ((r.oper == op::eq || r.oper == op::ne) && r.warning == r.critical)
      err("warning", "warning and critical must differ for operator " + std::string(to_string(r.oper)));
  }
  if (const json::value* d = node.find("display"); d && !d->is_null()) {
    if (!d->is_string()) {
      err("display", "must be a string");
    } else {
      auto t = display_template::compile(d->as_string(), allow_fields);
      if (!t)
        err("display", t.err().message);
      else {
        r.display = std::move(*t);
        for (const auto& s : r.display.segments()) r.display_uses_fields |= s.var == template_var::field;
      }
    }
  }
  for (auto key : {"for", "recover_after"}) {
    const json::value* v = node.find(key);
    if (!v || v->is_null()) continue;
    auto h = parse_hold(*v);
    if (!h)
      err(key, "must be seconds (90, \"5m\") or a sample count (\"3 samples\")");
    else
      (std::string_view(key) == "for" ? r.raise_hold : r.recover_hold) = *h;
  }
  if (const json::value* v = node.find("missing_after"); v && !v->is_null()) {
    auto d = config::parse_duration(*v);
    if (!d)
      err("missing_after", "must be a duration in seconds or like 30s, 5m, 2h (0: never)");
    else
      r.missing_after = *d;
  }
  r.precompute();
  if (!ok) return std::nullopt;
  return r;
}

// Walks a thresholds tree (without `rtt`) into a table. `rel` paths are relative to the tree.
inline void compile_tree(const json::value& tree, const std::string& abs_root, double default_missing,
                         rule_table& table, std::vector<rule_error>& errs, config::diagnostics& warnings) {
  if (!tree.is_object()) {
    if (!tree.is_null()) errs.push_back({"", "must be a mapping of plugin names"});
    return;
  }
  for (const auto& [plugin, pnode] : tree.as_object()) {
    if (plugin == "rtt" || pnode.is_null()) continue;
    if (!pnode.is_object()) {
      errs.push_back({plugin, "must be a mapping of metric names to rules"});
      continue;
    }
    plugin_rules pr;
    // Depth-first over nested mappings until rule nodes.
    struct frame {
      const json::value* node;
      std::string rel;   // path below the tree, e.g. "disk_monitor.partitions./"
      std::string leaf;  // path below the plugin, e.g. "partitions./"
    };
    std::vector<frame> stack;
    for (auto it = pnode.as_object().rbegin(); it != pnode.as_object().rend(); ++it)
      stack.push_back({&it->second, config::join_path(plugin, it->first), it->first});
    while (!stack.empty()) {
      frame f = std::move(stack.back());
      stack.pop_back();
      if (f.node->is_null()) continue;
      if (is_rule_node(*f.node)) {
        auto r = compile_rule(*f.node, f.rel, plugin + "." + f.leaf, true, default_missing, errs, warnings,
                              config::join_path(abs_root, f.rel));
        if (r) pr.by_path.insert_or_assign(f.leaf, std::move(*r));
        continue;
      }
      if (!f.node->is_object() || f.node->size() == 0) {
        errs.push_back({f.rel, "must be a rule (warning/critical/operator) or a mapping of nested metrics"});
        continue;
      }
      for (auto it = f.node->as_object().rbegin(); it != f.node->as_object().rend(); ++it)
        stack.push_back({&it->second, f.rel + "." + it->first, f.leaf + "." + it->first});
    }
    if (!pr.by_path.empty()) table.plugins.insert_or_assign(plugin, std::move(pr));
  }
}

inline void report(const std::vector<rule_error>& errs, const std::string& abs_root, config::diagnostics& d) {
  for (const auto& e : errs)
    d.error(e.rel.empty() ? abs_root : config::join_path(abs_root, e.rel), e.message);
}

inline void read_maintenance(const json::value& list, config::diagnostics& d,
                             std::vector<maintenance_window>& out) {
  if (!list.is_array()) {
    d.error("maintenance", "must be a list of windows");
    return;
  }
  std::set<std::string> names;
  std::size_t idx = 0;
  for (const auto& node : list.as_array()) {
    std::string path = "maintenance." + std::to_string(idx++);
    config::object_reader r(node, path, d);
    if (!node.is_object()) continue;
    maintenance_window w;
    r.get("name", w.name);
    if (w.name.empty()) w.name = "maintenance-" + std::to_string(idx - 1);
    if (!names.insert(w.name).second) d.error(r.key_path("name"), "duplicate window name \"" + w.name + "\"");
    r.get("hosts", w.hosts);
    for (const auto& h : w.hosts)
      if (h == "*") w.hosts.clear();
    double duration = 0;
    bool has_duration = r.has("duration");
    r.get_duration("duration", duration);
    auto time_of = [&](std::string_view key) -> std::optional<double> {
      const json::value* v = r.raw(key);
      if (!v) return std::nullopt;
      if (v->is_number()) return v->as_number();
      if (v->is_string())
        if (auto t = parse_utc_time(v->as_string())) return t;
      d.error(r.key_path(key), "must be a Unix time or a UTC time like 2026-11-23T22:00:00Z");
      return std::nullopt;
    };
    bool has_start = r.has("start"), has_cron = r.has("cron"), has_days = r.has("days") || r.has("at");
    int kinds = int(has_start) + int(has_cron) + int(has_days);
    if (kinds != 1) {
      d.error(path, "needs exactly one of start (one-off), days + at (weekly) or cron (recurring)");
      r.known({"start", "end", "cron", "days", "at"});
      r.finish();
      continue;
    }
    bool ok = true;
    if (has_start) {
      w.k = maintenance_window::kind::once;
      auto s = time_of("start");
      std::optional<double> e = r.has("end") ? time_of("end") : std::nullopt;
      if (!s)
        ok = false;
      else if (e)
        w.start = *s, w.end = *e;
      else if (has_duration && duration > 0)
        w.start = *s, w.end = *s + duration;
      else if (!r.has("end"))
        d.error(path, "a one-off window needs end or duration"), ok = false;
      else
        ok = false;
      if (ok && !(w.end > w.start)) d.error(r.key_path("end"), "must be after start"), ok = false;
    } else {
      w.k = maintenance_window::kind::recurring;
      if (!has_duration || duration <= 0)
        d.error(r.key_path("duration"), "a recurring window needs a duration"), ok = false;
      w.duration = duration;
      if (has_cron) {
        std::string expr;
        r.get("cron", expr);
        if (auto e = parse_cron(expr, w)) d.error(r.key_path("cron"), *e), ok = false;
      } else {
        std::vector<std::string> days;
        std::string at;
        r.get("days", days);
        r.get("at", at);
        w.dows = 0;
        if (!r.has("days")) w.dows = 0x7f;
        for (std::size_t i = 0; i < days.size(); ++i) {
          if (days[i] == "daily" || days[i] == "*")
            w.dows = 0x7f;
          else if (auto dw = day_of_week(days[i]))
            w.dows |= static_cast<std::uint8_t>(1u << *dw);
          else
            d.error(r.key_path("days") + "." + std::to_string(i),
                    "unknown day \"" + days[i] + "\" (mon..sun)"),
                ok = false;
        }
        int hh = -1, mm = -1;
        if (at.size() == 5 && at[2] == ':') {
          auto dig = [&](char c) { return c >= '0' && c <= '9'; };
          if (dig(at[0]) && dig(at[1]) && dig(at[3]) && dig(at[4]))
            hh = (at[0] - '0') * 10 + (at[1] - '0'), mm = (at[3] - '0') * 10 + (at[4] - '0');
        }
        if (hh < 0 || hh > 23 || mm < 0 || mm > 59) {
          d.error(r.key_path("at"), "must be a UTC time of day like \"02:30\"");
          ok = false;
        } else {
          w.minutes = std::uint64_t{1} << mm;
          w.hours = 1u << hh;
          w.doms = 0xfffffffeu;
          w.months = 0x1ffe;
          w.dow_restricted = true;
          w.dom_restricted = false;
        }
      }
    }
    r.known({"end"});
    r.finish();
    if (ok) out.push_back(std::move(w));
  }
}

}  // namespace detail

// Compiles the alerting part of the configuration. Every problem becomes a diagnostic with its
// key path (unknown operator, warning/critical order for the operator, hysteresis outside 0..1,
// unknown profile, unknown template variable, bad for/recover_after/missing_after, bad windows);
// rules with errors are left out, the rest still work.
inline ruleset compile_rules(const json::value& root, config::diagnostics& d) {
  using detail::rule_error;
  ruleset rs;
  if (const json::value* v = root.find("threshold_renotify_interval"); v && !v->is_null()) {
    if (auto s = config::parse_duration(*v))
      rs.renotify_interval = *s;
    else
      d.error("threshold_renotify_interval",
              "must be a duration in seconds or like 30m, 1h (0: no reminders)");
  }
  if (const json::value* v = root.find("threshold_missing_after"); v && !v->is_null()) {
    if (auto s = config::parse_duration(*v))
      rs.missing_after = *s;
    else
      d.error("threshold_missing_after", "must be a duration in seconds or like 15m (0: never)");
  }
  static const json::value empty_obj = json::value::object();
  const json::value* th = root.find("thresholds");
  const json::value& thresholds = th && !th->is_null() ? *th : empty_obj;

  // The defaults.
  auto defaults = std::make_shared<rule_table>();
  std::vector<rule_error> default_errs;
  detail::compile_tree(thresholds, "thresholds", rs.missing_after, *defaults, default_errs, d);
  detail::report(default_errs, "thresholds", d);
  std::set<std::string> reported;
  for (const auto& e : default_errs) reported.insert(e.rel);

  // RTT rules.
  if (const json::value* rtt = thresholds.find("rtt"); rtt && !rtt->is_null()) {
    if (!rtt->is_object()) {
      d.error("thresholds.rtt", "must be a mapping of host names (or globs) to rules");
    } else {
      for (const auto& [host, node] : rtt->as_object()) {
        std::string abs = "thresholds.rtt." + host;
        if (!node.is_object()) {
          d.error(abs, "must be a rule with warning and/or critical (milliseconds)");
          continue;
        }
        std::vector<rule_error> errs;
        auto r = detail::compile_rule(node, "", "rtt." + host, false, 0, errs, d, abs);
        for (const auto& e : errs) d.error(e.rel.empty() ? abs : abs + "." + e.rel, e.message);
        if (!r) continue;
        if (is_glob(host))
          rs.rtt_globs.emplace_back(host, std::move(*r));
        else
          rs.rtt_exact.insert_or_assign(host, std::move(*r));
      }
    }
  }

  // Profiles: validated on their own (errors at their own paths), merged per host below.
  std::map<std::string, const json::value*, std::less<>> profiles;
  std::map<std::string, std::optional<rule>, std::less<>> profile_rtt;
  if (const json::value* tc = root.find("threshold_configs"); tc && !tc->is_null()) {
    if (!tc->is_object()) {
      d.error("threshold_configs", "must be a mapping of profile names");
    } else {
      for (const auto& [name, node] : tc->as_object()) {
        std::string abs = "threshold_configs." + name;
        config::object_reader r(node, abs, d);
        const json::value* t = r.raw("thresholds");
        r.finish();
        if (!node.is_object()) continue;
        profiles[name] = t ? t : &empty_obj;
        if (!t) continue;
        rule_table scratch;
        std::vector<rule_error> errs;
        config::diagnostics quiet;  // unknown-key warnings are reported once, from the merged tree's source
        detail::compile_tree(*t, abs + ".thresholds", rs.missing_after, scratch, errs, d);
        detail::report(errs, abs + ".thresholds", d);
        for (const auto& e : errs) reported.insert(e.rel);
        if (const json::value* rtt = t->find("rtt"); rtt && !rtt->is_null()) {
          std::string rabs = abs + ".thresholds.rtt";
          std::vector<rule_error> rerrs;
          std::optional<rule> rr;
          if (!detail::is_rule_node(*rtt))
            d.error(rabs, "in a profile, rtt is one rule (warning/critical) for its hosts");
          else
            rr = detail::compile_rule(*rtt, "", "rtt", false, 0, rerrs, d, rabs);
          for (const auto& e : rerrs) d.error(e.rel.empty() ? rabs : rabs + "." + e.rel, e.message);
          profile_rtt[name] = std::move(rr);
        }
      }
    }
  }

  // Hosts: threshold_config (profile list) and watch. Other host keys belong to the server.
  std::map<std::vector<std::string>, std::shared_ptr<const rule_table>> by_combo;
  if (const json::value* hosts = root.find("hosts"); hosts && hosts->is_object()) {
    for (const auto& [host, hnode] : hosts->as_object()) {
      if (!hnode.is_object()) continue;
      if (const json::value* w = hnode.find("watch"); w && w->is_bool()) rs.host_watch[host] = w->as_bool();
      const json::value* tcv = hnode.find("threshold_config");
      if (!tcv || tcv->is_null()) continue;
      std::string path = "hosts." + host + ".threshold_config";
      std::vector<std::string> names;
      if (tcv->is_string())
        names.push_back(tcv->as_string());
      else if (tcv->is_array()) {
        std::size_t i = 0;
        for (const auto& e : tcv->as_array()) {
          if (e.is_string())
            names.push_back(e.as_string());
          else
            d.error(path + "." + std::to_string(i), "must be a profile name");
          ++i;
        }
      } else {
        d.error(path, "must be a profile name or a list of names");
        continue;
      }
      bool ok = true;
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (!profiles.count(names[i])) {
          std::string p = tcv->is_string() ? path : path + "." + std::to_string(i);
          std::string known;
          for (const auto& [n, _] : profiles) known += (known.empty() ? "" : ", ") + n;
          d.error(p, "unknown profile \"" + names[i] + "\"" +
                         (known.empty() ? " (no threshold_configs defined)" : " (known: " + known + ")"));
          ok = false;
        }
      }
      if (!ok || names.empty()) continue;
      for (const auto& n : names)
        if (auto it = profile_rtt.find(n); it != profile_rtt.end() && it->second) {
          rule r = *it->second;
          r.path = "rtt." + host;
          rs.rtt_profile.insert_or_assign(host, std::move(r));
        }
      auto& table = by_combo[names];
      if (!table) {
        json::value merged = thresholds.is_object() ? thresholds : json::value::object();
        for (const auto& n : names) detail::deep_merge(merged, *profiles[n]);
        merged.erase("rtt");
        auto t = std::make_shared<rule_table>();
        std::vector<rule_error> errs;
        config::diagnostics quiet;
        detail::compile_tree(merged, "thresholds", rs.missing_after, *t, errs, quiet);
        // Only problems the combination creates (e.g. a profile's warning above the default's critical).
        for (const auto& e : errs)
          if (!reported.count(e.rel)) d.error(path, "with profiles applied, " + e.rel + ": " + e.message);
        table = std::move(t);
      }
      rs.host_tables.insert_or_assign(host, table);
    }
  }
  rs.defaults = std::move(defaults);

  if (const json::value* m = root.find("maintenance"); m && !m->is_null())
    detail::read_maintenance(*m, d, rs.maintenance);
  return rs;
}

}  // namespace heartbeat::alert
