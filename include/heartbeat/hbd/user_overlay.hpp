// Users changed through /api/0/users, kept as an overlay on the config file's `users:` and
// persisted in the store's `users` table, so that an account created, changed or deleted through
// the API survives restarts and SIGHUP (docs/USERS.md has the precedence rules). The overlay also
// keeps the notifier's routing in step with every change. Lives on the io thread (hbd::accounts).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "heartbeat/api/auth.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/sha256.hpp"
#include "heartbeat/notify/service.hpp"
#include "heartbeat/server/store.hpp"

namespace heartbeat::hbd {

// A user as the store keeps it: the API's fields plus the password hash.
inline json::value user_record_json(const api::user& u) {
  json::value v = api::user_json(u);
  v.set("password", u.password);
  return v;
}

inline std::optional<api::user> user_from_record(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  api::user u;
  u.name = v.string_or("username", "");
  if (!api::valid_user_name(u.name)) return std::nullopt;
  u.full_name = v.string_or("full_name", "");
  u.avatar = v.string_or("avatar", "");
  u.password = v.string_or("password", "");
  u.admin = v.bool_or("admin", false);
  if (const json::value* c = v.find("notification_channels"); c && c->is_array())
    for (const auto& x : c->as_array())
      if (x.is_string()) u.notification_channels.push_back(x.as_string());
  return u;
}

// Which version of a config entry an API change was made over ("-": the config had no such user).
// When the config file's entry differs from it later, the file was edited since and wins.
inline std::string user_fingerprint(const api::user* u) {
  if (!u) return "-";
  std::string text = user_record_json(*u).dump();
  auto d = crypto::sha256::hash(text);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    out.push_back(hex[d[i] >> 4]);
    out.push_back(hex[d[i] & 15]);
  }
  return out;
}

class user_overlay {
 public:
  struct entry {
    std::optional<api::user> u;  // nullopt: deleted through the API
    std::string base;            // user_fingerprint() of the config entry when the change was made
    double updated = 0;
  };

  // The rows of store_snapshot::users.
  void load(const std::map<std::string, json::value>& rows) {
    entries_.clear();
    merge(rows);
  }

  // Rows on top of the entries there are (another node's changes).
  void merge(const std::map<std::string, json::value>& rows) {
    for (const auto& [name, v] : rows) {
      entry e;
      e.base = v.string_or("base", "-");
      e.updated = v.number_or("updated", 0);
      if (!v.bool_or("deleted", false)) {
        const json::value* u = v.find("user");
        auto parsed = u ? user_from_record(*u) : std::nullopt;
        if (!parsed || parsed->name != name) {
          log::warn("users: ignoring an unreadable stored record for '", name, "'");
          continue;
        }
        e.u = std::move(*parsed);
      }
      entries_.insert_or_assign(name, std::move(e));
    }
  }

  // The effective users: the config's, with every overlay entry applied whose config entry is
  // unchanged since the API change. Entries that lost to a later edit of the config file are
  // dropped and their names appended to `stale` (the caller forgets them in the store).
  std::vector<api::user> apply(const std::vector<api::user>& config_users,
                               std::vector<std::string>* stale = nullptr) {
    std::map<std::string, api::user> out;
    for (const auto& u : config_users) out[u.name] = u;
    for (auto it = entries_.begin(); it != entries_.end();) {
      auto c = out.find(it->first);
      std::string now_base = user_fingerprint(c == out.end() ? nullptr : &c->second);
      if (now_base != it->second.base) {
        log::info("users: the config file changed api::user '", it->first,
                  "' after the API did; the config file's version is used");
        if (stale) stale->push_back(it->first);
        it = entries_.erase(it);
        continue;
      }
      if (it->second.u)
        out[it->first] = *it->second.u;
      else if (c != out.end())
        out.erase(c);
      ++it;
    }
    std::vector<api::user> v;
    v.reserve(out.size());
    for (auto& [n, u] : out) v.push_back(std::move(u));
    return v;
  }

  // After an API change: compares the users before and after, records each difference over the
  // config users and returns the changed names with their store records (json text).
  struct change {
    std::string name;
    std::optional<api::user> u;  // nullopt: deleted
    std::string record;          // for store::put_user
  };
  std::vector<change> diff(const std::map<std::string, api::user>& before,
                           const std::map<std::string, api::user>& after,
                           const std::vector<api::user>& config_users, double now) {
    std::vector<change> out;
    auto config_entry = [&](const std::string& n) -> const api::user* {
      for (const auto& u : config_users)
        if (u.name == n) return &u;
      return nullptr;
    };
    auto record = [&](const std::string& name, const std::optional<api::user>& u) {
      entry e{u, user_fingerprint(config_entry(name)), now};
      json::value r = json::value::object({{"base", e.base}, {"updated", now}});
      if (u)
        r.set("user", user_record_json(*u));
      else
        r.set("deleted", true);
      entries_[name] = std::move(e);
      out.push_back(change{name, u, r.dump()});
    };
    for (const auto& [name, u] : after) {
      auto b = before.find(name);
      if (b == before.end() || user_record_json(b->second).dump() != user_record_json(u).dump())
        record(name, u);
    }
    for (const auto& [name, u] : before)
      if (!after.count(name)) record(name, std::nullopt);
    return out;
  }

  const std::map<std::string, entry>& entries() const noexcept { return entries_; }

 private:
  std::map<std::string, entry> entries_;
};

// The notifier's idea of one user: the config's notification keys (quiet hours, severity, ...)
// with the admin flag and channels the API set.
inline notify::user_settings notify_user(const api::user& u, const notify::settings& base) {
  notify::user_settings s;
  for (const auto& b : base.users)
    if (b.name == u.name) s = b;
  s.name = u.name;
  s.admin = u.admin;
  s.channels = u.notification_channels;
  return s;
}

// Brings the notifier from the config's users (what it was built with) to the effective ones.
inline void sync_notifier_users(notify::service& n, const notify::settings& base,
                                const std::vector<api::user>& config_users,
                                const std::vector<api::user>& effective) {
  std::map<std::string, const api::user*> cfg;
  for (const auto& u : config_users) cfg[u.name] = &u;
  for (const auto& u : effective) {
    auto it = cfg.find(u.name);
    if (it == cfg.end() || it->second->admin != u.admin ||
        it->second->notification_channels != u.notification_channels)
      n.set_user(notify_user(u, base));
    if (it != cfg.end()) cfg.erase(it);
  }
  for (const auto& [name, u] : cfg) n.remove_user(name);
}

}  // namespace heartbeat::hbd
