// notify::settings and notify::load_config: reads `notifiers`, `pushsrv`,
// `notify` (pipeline policy), the notification keys of `users.<u>`, the
// routing keys of `hosts.<h>`, the escalation ladders and `partition` from the
// server config tree, reporting every problem with its key path. Runs on the
// thread that loads the config.
#pragma once

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/alert/maintenance_config.hpp"
#include "heartbeat/alert/tz_database.hpp"
#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/notify/escalation.hpp"
#include "heartbeat/notify/notification.hpp"
#include "heartbeat/notify/partition.hpp"
#include "heartbeat/notify/schema.hpp"

namespace heartbeat::notify {

struct notifier_config {
  std::string name;     // the key under `notifiers`
  std::string type;     // schema slug
  json::value raw;      // the validated mapping, read by the channel
  bool enabled = true;  // false: switched off by `pushsrv`
};

// Minutes of the day; a window may wrap midnight (22:00-07:00). Local time of `zone` (an IANA
// zone, following its daylight-saving changes) or of a fixed `utc_offset_hours`.
struct quiet_hours {
  bool enabled = false;
  int start_minute = 0;
  int end_minute = 0;
  double utc_offset_hours = 0;
  bool use_zone = false;
  alert::time_zone zone;
  notify::level passes = level::critical;  // this severity and worse still get through

  bool covers(double unix_time) const {
    if (!enabled) return false;
    int minute;
    if (use_zone) {
      const alert::local_fields f = zone.to_local(unix_time);
      minute = f.hour * 60 + f.minute;
    } else {
      long long local = static_cast<long long>(unix_time + utc_offset_hours * 3600);
      minute = static_cast<int>(((local % 86400) + 86400) % 86400 / 60);
    }
    if (start_minute <= end_minute) return minute >= start_minute && minute < end_minute;
    return minute >= start_minute || minute < end_minute;
  }
};

struct user_settings {
  std::string name;
  bool admin = false;
  std::vector<std::string> channels;           // notifier names the user receives on
  std::vector<std::string> fallback_channels;  // used only when one of `channels` fails
  notify::level min_level = level::warning;    // severity filter
  notify::quiet_hours quiet;
  json::value channel_settings = json::value::object();  // slug -> per-user keys (Cabot's user settings)

  const json::value* settings_for(std::string_view slug) const { return channel_settings.find(slug); }
};

struct host_access {
  bool watch = true;
  std::string owner;
  std::vector<std::string> managers;
  std::vector<std::string> monitors;
};

// Whether `a` routes like a host the directory holds nothing for: watched, owned by the default
// owner, no managers or monitors. Such hosts (nearly all of a large fleet) cost the notifier no
// memory: neither the directory nor the io thread's record of what it forwarded keeps them.
inline bool plain_access(const host_access& a, std::string_view default_owner) {
  return a.watch && a.managers.empty() && a.monitors.empty() && (a.owner.empty() || a.owner == default_owner);
}

// The alert engine's windows (one-off, weekly, cron; host names or globs), parsed by the same
// code, so that the notifier and the alert engine always agree on who is in maintenance.
using maintenance_window = alert::maintenance_window;

// The pipeline's knobs (`notify:` in the config).
struct policy {
  double dedup_window = 60;  // identical notification within this many seconds: suppressed
  int rate_limit_count = 5;  // per user and window; more are folded into one digest
  double rate_limit_window = 60;
  int retry_attempts = 4;    // tries per delivery, including the first
  double retry_initial = 1;  // first backoff; doubles per retry
  double retry_max = 60;
  double channel_alert_interval = 3600;  // at most one "notifier failed" alert per channel per interval
  int digest_max_lines = 20;
  std::size_t queue_size = 1024;
};

struct settings {
  std::vector<notifier_config> notifiers;
  std::vector<user_settings> users;  // config order
  std::vector<std::pair<std::string, host_access>> hosts;
  std::string default_owner;
  std::string pushsrv;  // "", "pushover", "mattermost" or "all"
  notify::policy policy;
  std::vector<maintenance_window> maintenance;
  escalation_policy escalations;  // `escalations`, `escalation_default`, `hosts.<h>.escalation`
  partition_config partition;

  const notifier_config* find_notifier(std::string_view n) const {
    for (const auto& c : notifiers)
      if (c.name == n) return &c;
    return nullptr;
  }
  const user_settings* find_user(std::string_view n) const {
    for (const auto& u : users)
      if (u.name == n) return &u;
    return nullptr;
  }
};

// `default_owner`, else the first admin: who owns hosts nobody was named for.
inline std::string effective_default_owner(const settings& s) {
  if (!s.default_owner.empty()) return s.default_owner;
  for (const auto& u : s.users)
    if (u.admin) return u.name;
  return {};
}

namespace detail {

inline bool parse_clock(const std::string& s, int& minute) {
  int h = 0, m = 0;
  char extra = 0;
  if (std::sscanf(s.c_str(), "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 24 || m < 0 || m > 59)
    return false;
  minute = h * 60 + m;
  return minute <= 24 * 60;
}

// Unix seconds, or "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC).
inline bool parse_time_point(const json::value& v, double& out) {
  if (v.is_number()) {
    out = v.as_number();
    return true;
  }
  if (!v.is_string()) return false;
  std::tm tm{};
  int sec = 0;
  int n = std::sscanf(v.as_string().c_str(), "%d-%d-%d%*c%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &sec);
  if (n < 5) return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_sec = sec;
  out = static_cast<double>(::timegm(&tm));
  return true;
}

inline void check_key(const key_spec& k, const json::value& v, const std::string& path,
                      config::diagnostics& d) {
  auto bad = [&](const char* want) {
    d.error(path, std::string("must be ") + want + ", not " + json::to_string(v.type()));
  };
  switch (k.type) {
    case key_type::string:
      if (!v.is_string())
        bad("a string");
      else if (k.required && v.as_string().empty())
        d.error(path, "must not be empty");
      break;
    case key_type::integer:
      if (!v.is_number() || v.as_number() != static_cast<double>(static_cast<long long>(v.as_number())) ||
          v.as_number() < 1 || v.as_number() > 65535)
        d.error(path, "must be a whole number between 1 and 65535");
      break;
    case key_type::boolean:
      if (!v.is_bool()) bad("true or false");
      break;
    case key_type::duration:
      if (!config::parse_duration(v)) d.error(path, "must be a duration in seconds or like 30s, 5m");
      break;
    case key_type::string_list:
      if (v.is_string()) break;
      if (!v.is_array()) {
        bad("a list of strings");
        break;
      }
      for (std::size_t i = 0; i < v.size(); ++i)
        if (!v.as_array()[i].is_string()) d.error(path + "." + std::to_string(i), "must be a string");
      break;
    case key_type::string_map:
      if (!v.is_object()) {
        bad("a mapping of strings");
        break;
      }
      for (const auto& [mk, mv] : v.as_object())
        if (!mv.is_string()) d.error(path + "." + mk, "must be a string");
      break;
    case key_type::choice: {
      if (!v.is_string()) {
        bad("a string");
        break;
      }
      std::string_view rest = k.choices;
      while (!rest.empty()) {
        auto bar = rest.find('|');
        if (rest.substr(0, bar) == v.as_string()) return;
        if (bar == std::string_view::npos) break;
        rest.remove_prefix(bar + 1);
      }
      std::string msg = "must be one of " + std::string(k.choices) + " (got \"" + v.as_string() + "\")";
      for (auto& c : msg)
        if (c == '|') c = ' ';
      d.error(path, msg);
      break;
    }
  }
}

// Validates a mapping against a list of key specs; unknown keys warn.
inline void check_keys(const json::value& obj, std::span<const key_spec> a, std::span<const key_spec> b,
                       const std::string& path, config::diagnostics& d) {
  auto find = [&](std::string_view key) -> const key_spec* {
    for (const auto& k : a)
      if (k.key == key) return &k;
    for (const auto& k : b)
      if (k.key == key) return &k;
    return nullptr;
  };
  for (const auto& [key, v] : obj.as_object()) {
    const key_spec* k = find(key);
    if (!k)
      d.warn(config::join_path(path, key), "unknown key (ignored)");
    else if (!v.is_null())
      check_key(*k, v, config::join_path(path, key), d);
  }
  for (auto list : {a, b})
    for (const auto& k : list) {
      const json::value* v = obj.find(k.key);
      if (k.required && (!v || v->is_null())) d.error(config::join_path(path, k.key), "is required");
    }
}

inline bool declared_notifier(const json::value& root, std::string_view name) {
  const json::value* ns = root.find("notifiers");
  return ns && ns->is_object() && ns->find(name);
}

inline std::vector<std::string> string_list(const json::value* v) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) out.push_back(v->as_string());
  for (const auto& e : v->as_array())
    if (e.is_string()) out.push_back(e.as_string());
  return out;
}

}  // namespace detail

// Reads every notification key of the server config `root`. Errors and
// warnings go to `d` with their key paths; the result is usable (bad entries
// left out) even when `d` has errors, but the server refuses to start then.
inline settings load_config(const json::value& root, config::diagnostics& d) {
  settings s;
  if (!root.is_object()) return s;

  // notifiers.<n>: one channel each.
  if (const json::value* ns = root.find("notifiers"); ns && !ns->is_null()) {
    if (!ns->is_object())
      d.error("notifiers", std::string("must be a mapping, not ") + json::to_string(ns->type()));
    for (const auto& [name, cfg] : ns->as_object()) {
      std::string path = "notifiers." + name;
      if (!cfg.is_object()) {
        d.error(path, std::string("must be a mapping, not ") + json::to_string(cfg.type()));
        continue;
      }
      const json::value* type = cfg.find("type");
      if (!type || !type->is_string()) {
        d.error(path + ".type", "is required (email, pushover, mattermost, signal or webhook)");
        continue;
      }
      const notifier_schema* schema = find_schema(type->as_string());
      if (!schema) {
        d.error(path + ".type", "must be one of email pushover mattermost signal webhook (got \"" +
                                    type->as_string() + "\")");
        continue;
      }
      std::size_t before = d.items.size();
      detail::check_keys(cfg, schemas::common_keys, schema->keys, path, d);
      bool bad = false;
      for (std::size_t i = before; i < d.items.size(); ++i) bad = bad || d.items[i].is_error;
      if (!bad) s.notifiers.push_back({name, type->as_string(), cfg, true});
    }
  }

  // pushsrv: which push services are active (docs/NOTIFICATIONS.md).
  if (const json::value* p = root.find("pushsrv"); p && !p->is_null()) {
    if (!p->is_string() ||
        (p->as_string() != "pushover" && p->as_string() != "mattermost" && p->as_string() != "all"))
      d.error("pushsrv", "must be one of pushover mattermost all");
    else
      s.pushsrv = p->as_string();
  }
  if (!s.pushsrv.empty() && s.pushsrv != "all") {
    bool found = false;
    for (auto& n : s.notifiers) {
      if (n.type == s.pushsrv)
        found = true;
      else if (n.type == "pushover" || n.type == "mattermost")
        n.enabled = false;
    }
    if (!found) d.warn("pushsrv", "selects " + s.pushsrv + " but no notifier has type " + s.pushsrv);
  }

  // notify: the pipeline policy.
  if (const json::value* pv = root.find("notify"); pv && !pv->is_null()) {
    config::object_reader r(*pv, "notify", d);
    auto& p = s.policy;
    r.get_duration("dedup_window", p.dedup_window);
    r.get("rate_limit_count", p.rate_limit_count, 1, 100000);
    r.get_duration("rate_limit_window", p.rate_limit_window);
    r.get("retry_attempts", p.retry_attempts, 1, 100);
    r.get_duration("retry_initial", p.retry_initial);
    r.get_duration("retry_max", p.retry_max);
    r.get_duration("channel_alert_interval", p.channel_alert_interval);
    r.get("digest_max_lines", p.digest_max_lines, 1, 10000);
    r.get("queue_size", p.queue_size, 1, 1000000);
    r.finish();
  }

  // users.<u>: admin flag (read only), notification keys (owned here).
  const alert::time_zone server_tz = alert::server_time_zone(root);
  if (const json::value* us = root.find("users"); us && us->is_object()) {
    for (const auto& [name, u] : us->as_object()) {
      if (!u.is_object()) continue;  // the server's loader reports it
      std::string path = "users." + name;
      user_settings user;
      user.name = name;
      user.admin = u.bool_or("admin", false);
      if (const json::value* ch = u.find("notification_channels"); ch && !ch->is_null()) {
        if (!ch->is_array() && !ch->is_string())
          d.error(path + ".notification_channels", "must be a list of notifier names");
        std::size_t i = 0;
        for (const auto& c : detail::string_list(ch)) {
          if (!s.find_notifier(c) && !detail::declared_notifier(root, c))
            d.error(path + ".notification_channels." + std::to_string(i), "no notifier named \"" + c + "\"");
          else if (s.find_notifier(c))
            user.channels.push_back(c);
          ++i;
        }
      }
      if (const json::value* fc = u.find("fallback_channels"); fc && !fc->is_null()) {
        std::size_t i = 0;
        for (const auto& c : detail::string_list(fc)) {
          if (!s.find_notifier(c) && !detail::declared_notifier(root, c))
            d.error(path + ".fallback_channels." + std::to_string(i), "no notifier named \"" + c + "\"");
          else if (s.find_notifier(c))
            user.fallback_channels.push_back(c);
          ++i;
        }
      }
      if (const json::value* lv = u.find("notification_level"); lv && !lv->is_null()) {
        if (!lv->is_string() || !parse_level(lv->as_string(), user.min_level) || user.min_level == level::ok)
          d.error(path + ".notification_level", "must be one of WARNING CRITICAL UNKNOWN");
      }
      if (const json::value* q = u.find("quiet_hours"); q && !q->is_null()) {
        config::object_reader r(*q, path + ".quiet_hours", d);
        std::string start, end, passes = "CRITICAL";
        r.get("start", start);
        r.get("end", end);
        const bool has_offset = r.has("utc_offset");
        r.get("utc_offset", user.quiet.utc_offset_hours, -14, 14);
        // A zone of their own, else the server's `timezone` unless a fixed offset is given.
        if (const json::value* z = r.raw("timezone")) {
          user.quiet.zone = alert::read_time_zone(z, r.key_path("timezone"), d);
          user.quiet.use_zone = true;
          if (has_offset) d.error(r.key_path("utc_offset"), "give either timezone or utc_offset, not both");
        } else if (!has_offset) {
          user.quiet.zone = server_tz;
          user.quiet.use_zone = !server_tz.is_utc();
        }
        r.get_enum("passes", passes, {"WARNING", "CRITICAL", "none"});
        r.finish();
        if (!detail::parse_clock(start, user.quiet.start_minute))
          d.error(path + ".quiet_hours.start", "must be a time of day like 22:00");
        else if (!detail::parse_clock(end, user.quiet.end_minute))
          d.error(path + ".quiet_hours.end", "must be a time of day like 07:00");
        else {
          user.quiet.enabled = true;
          if (passes == "none")
            user.quiet.passes = static_cast<level>(255);
          else
            parse_level(passes, user.quiet.passes);
        }
      }
      if (const json::value* cs = u.find("notification_settings"); cs && !cs->is_null()) {
        if (!cs->is_object())
          d.error(path + ".notification_settings", "must be a mapping of notifier type to settings");
        for (const auto& [slug, v] : cs->as_object()) {
          std::string sp = path + ".notification_settings." + slug;
          const notifier_schema* schema = find_schema(slug);
          if (!schema)
            d.error(sp, "no notifier type named \"" + slug + "\"");
          else if (!v.is_object())
            d.error(sp, "must be a mapping");
          else {
            detail::check_keys(v, schema->user_keys, {}, sp, d);
            user.channel_settings.set(slug, v);
          }
        }
      }
      s.users.push_back(std::move(user));
    }
  }

  // hosts.<h>: watch flag and roles (validated by the server's loader).
  if (const json::value* hs = root.find("hosts"); hs && hs->is_object()) {
    for (const auto& [name, h] : hs->as_object()) {
      host_access a;
      if (h.is_object()) {
        a.watch = h.bool_or("watch", true);
        a.owner = h.string_or("owner", "");
        a.managers = detail::string_list(h.find("managers"));
        a.monitors = detail::string_list(h.find("monitors"));
      }
      s.hosts.emplace_back(name, std::move(a));
    }
  }
  s.default_owner = root.string_or("default_owner", "");

  // maintenance: the alert engine's windows (compile_rules reports their errors).
  if (const json::value* m = root.find("maintenance"); m && m->is_array()) {
    config::diagnostics quiet;
    alert::read_maintenance(*m, quiet, s.maintenance, alert::server_time_zone(root));
  }
  s.escalations = read_escalations(root, d);
  s.partition = read_partition(root, d);
  return s;
}

}  // namespace heartbeat::notify
