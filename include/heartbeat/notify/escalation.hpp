// Escalation ladders (`escalations.<name>`: steps of {after, channels, users}), which
// ladder a host uses (`hosts.<h>.escalation`, else `escalation_default`: a ladder name or
// a mapping of host globs to ladder names) and their reader with key-path diagnostics.
// Built at load/reload on the loading thread; immutable afterwards and read by the
// notifier's worker thread. Other parts (e.g. active checks naming a ladder for a
// service) look ladders up by name with find().
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/alert/maintenance.hpp"
#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::notify {

struct escalation_step {
  double after = 0;                   // seconds since the alert (or host DOWN) fired
  std::vector<std::string> channels;  // notifier names: everyone on that channel
  std::vector<std::string> users;     // users, on their own channels and settings
};

struct escalation_ladder {
  std::string name;
  std::vector<escalation_step> steps;  // in order of `after`
};

class escalation_policy {
 public:
  bool empty() const noexcept { return ladders_.empty(); }

  // The ladder called `name`, or null.
  const escalation_ladder* find(std::string_view name) const {
    auto it = ladders_.find(name);
    return it == ladders_.end() ? nullptr : &it->second;
  }
  // The ladder of a host: hosts.<h>.escalation, else the first matching glob of
  // escalation_default, else its plain ladder name; null: no ladder (routing by roles).
  const escalation_ladder* for_host(std::string_view host) const {
    if (auto it = hosts_.find(host); it != hosts_.end()) return find(it->second);
    for (const auto& [glob, name] : defaults_)
      if (alert::glob_match(glob, host)) return find(name);
    return nullptr;
  }
  // An explicit ladder name (a service of the active checks) wins over the host's.
  const escalation_ladder* for_subject(std::string_view host, std::string_view explicit_name) const {
    if (!explicit_name.empty())
      if (const escalation_ladder* l = find(explicit_name)) return l;
    return for_host(host);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [n, _] : ladders_) out.push_back(n);
    return out;
  }

  void add(escalation_ladder l) {
    std::string name = l.name;
    ladders_.insert_or_assign(std::move(name), std::move(l));
  }
  void set_host(std::string host, std::string ladder) {
    hosts_.insert_or_assign(std::move(host), std::move(ladder));
  }
  void add_default(std::string glob, std::string ladder) {
    defaults_.emplace_back(std::move(glob), std::move(ladder));
  }

 private:
  std::map<std::string, escalation_ladder, std::less<>> ladders_;
  std::map<std::string, std::string, std::less<>> hosts_;      // exact host names
  std::vector<std::pair<std::string, std::string>> defaults_;  // globs in config order ("*": everyone)
};

namespace detail {

inline std::string known_list(const std::vector<std::string>& names) {
  if (names.empty()) return " (no escalations defined)";
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return " (known: " + s + ")";
}

inline void read_ladder(const json::value& steps, const std::string& path, const json::value& root,
                        config::diagnostics& d, escalation_ladder& out) {
  if (!steps.is_array() || steps.size() == 0) {
    d.error(path, "must be a list of steps like {after: 900, channels: [pager]}");
    return;
  }
  const json::value* notifiers = root.find("notifiers");
  const json::value* users = root.find("users");
  double previous = -1;
  std::size_t i = 0;
  for (const auto& s : steps.as_array()) {
    std::string sp = path + "." + std::to_string(i++);
    config::object_reader r(s, sp, d);
    if (!s.is_object()) continue;
    escalation_step step;
    if (!r.has("after"))
      d.error(r.key_path("after"), "is required (seconds since the alert fired, 0 for the first step)");
    r.get_duration("after", step.after);
    r.get("channels", step.channels);
    r.get("users", step.users);
    r.finish();
    if (step.channels.empty() && step.users.empty())
      d.error(sp, "needs channels (notifier names) and/or users");
    if (step.after < previous)
      d.error(r.key_path("after"), "must not be earlier than the step before (" +
                                       std::to_string(static_cast<long long>(previous)) + "s)");
    previous = std::max(previous, step.after);
    for (std::size_t c = 0; c < step.channels.size(); ++c)
      if (!notifiers || !notifiers->is_object() || !notifiers->find(step.channels[c]))
        d.error(r.key_path("channels") + "." + std::to_string(c),
                "no notifier named \"" + step.channels[c] + "\"");
    // Users may also be created through the API at run time: only a warning.
    for (std::size_t u = 0; u < step.users.size(); ++u)
      if (!users || !users->is_object() || !users->find(step.users[u]))
        d.warn(r.key_path("users") + "." + std::to_string(u),
               "no user \"" + step.users[u] + "\" in the configuration (it must exist when the step runs)");
    out.steps.push_back(std::move(step));
  }
}

}  // namespace detail

// Reads `escalations`, `escalation_default` and `hosts.<h>.escalation` from the server config
// `root`; problems go to `d` with their key paths. Ladders with errors are still usable.
inline escalation_policy read_escalations(const json::value& root, config::diagnostics& d) {
  escalation_policy p;
  if (!root.is_object()) return p;
  if (const json::value* es = root.find("escalations"); es && !es->is_null()) {
    if (!es->is_object()) {
      d.error("escalations", "must be a mapping of ladder names to lists of steps");
    } else {
      for (const auto& [name, steps] : es->as_object()) {
        escalation_ladder l;
        l.name = name;
        detail::read_ladder(steps, "escalations." + name, root, d, l);
        p.add(std::move(l));
      }
    }
  }
  const std::vector<std::string> names = p.names();
  auto check = [&](const std::string& path, const json::value& v) -> std::string {
    if (!v.is_string() || v.as_string().empty()) {
      d.error(path, "must be the name of an escalation ladder");
      return {};
    }
    if (!p.find(v.as_string())) {
      d.error(path, "unknown escalation \"" + v.as_string() + "\"" + detail::known_list(names));
      return {};
    }
    return v.as_string();
  };
  if (const json::value* def = root.find("escalation_default"); def && !def->is_null()) {
    if (def->is_object()) {
      for (const auto& [glob, v] : def->as_object())
        if (auto n = check("escalation_default." + glob, v); !n.empty()) p.add_default(glob, n);
    } else if (auto n = check("escalation_default", *def); !n.empty()) {
      p.add_default("*", n);
    }
  }
  if (const json::value* hs = root.find("hosts"); hs && hs->is_object())
    for (const auto& [host, h] : hs->as_object())
      if (const json::value* e = h.is_object() ? h.find("escalation") : nullptr; e && !e->is_null())
        if (auto n = check("hosts." + host + ".escalation", *e); !n.empty()) p.set_host(host, n);
  return p;
}

}  // namespace heartbeat::notify
