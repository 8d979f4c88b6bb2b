// Threshold rules compiled once from the configuration tree (`thresholds`,
// `threshold_configs`, `threshold_renotify_interval` / `_backoff` / `_max`,
// `threshold_missing_after`, `maintenance`, `timezone`, `hosts.<h>.threshold_config` /
// `watch`) into a ruleset
// (rule_table.hpp), with every error reported by key path. Runs at load/reload
// (any thread); the engine then reads the result on the io thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/alert/maintenance_config.hpp"
#include "heartbeat/alert/rule_table.hpp"
#include "heartbeat/alert/template.hpp"
#include "heartbeat/alert/types.hpp"
#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::alert {

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

// `{samples: N, of: M}`: N samples among the last M (1 <= N <= M <= 32). Errors name the sub-key.
inline bool parse_window(const json::value& v, const std::string& rel, const std::string& abs, hold& out,
                         std::vector<rule_error>& errs, config::diagnostics& warnings) {
  hold h;
  bool ok = true;
  auto whole = [&](std::string_view key, std::uint32_t lo, std::uint32_t& into) {
    const json::value* n = v.find(key);
    const std::string where = config::join_path(rel, key);
    if (!n || n->is_null()) {
      errs.push_back({where, "is required (e.g. {samples: 3, of: 5})"});
      return false;
    }
    if (!n->is_number() || n->as_number() != std::floor(n->as_number()) || n->as_number() < lo ||
        n->as_number() > hold::max_of) {
      errs.push_back({where, "must be a whole number from " + std::to_string(lo) + " to " +
                                 std::to_string(hold::max_of) + ", not " + n->dump()});
      return false;
    }
    into = static_cast<std::uint32_t>(n->as_number());
    return true;
  };
  for (const auto& [k, _] : v.as_object())
    if (k != "samples" && k != "of") warnings.warn(config::join_path(abs, k), "unknown key (ignored)");
  ok = whole("samples", 1, h.samples);
  if (ok && whole("of", h.samples, h.of)) {
    out = h;
    return true;
  }
  if (ok) return false;
  std::uint32_t ignored = 0;
  (void)whole("of", 1, ignored);
  return false;
}

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
    hold& out = std::string_view(key) == "for" ? r.raise_hold : r.recover_hold;
    if (v->is_object()) {
      if (!parse_window(*v, config::join_path(rel, key), config::join_path(abs, key), out, errs, warnings))
        ok = false;
      continue;
    }
    auto h = parse_hold(*v);
    if (!h)
      err(key, "must be seconds (90, \"5m\") or a sample count (\"3 samples\")");
    else
      out = *h;
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
  if (const json::value* v = root.find("threshold_renotify_backoff"); v && !v->is_null()) {
    if (!v->is_number() || !(v->as_number() >= 1) || v->as_number() > 1000)
      d.error("threshold_renotify_backoff",
              "must be a number from 1 to 1000 (2: each reminder waits twice as long as the last), not " +
                  v->dump());
    else
      rs.renotify_backoff = v->as_number();
  }
  if (const json::value* v = root.find("threshold_renotify_max"); v && !v->is_null()) {
    if (auto s = config::parse_duration(*v))
      rs.renotify_max = *s;
    else
      d.error("threshold_renotify_max", "must be a duration in seconds or like 12h, 1d (the longest wait)");
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

  const time_zone tz = read_time_zone(root.find("timezone"), "timezone", d);
  if (const json::value* m = root.find("maintenance"); m && !m->is_null())
    read_maintenance(*m, d, rs.maintenance, tz);
  return rs;
}

}  // namespace heartbeat::alert
