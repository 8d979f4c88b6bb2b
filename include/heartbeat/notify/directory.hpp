// Who is who for routing: users with their notification settings and each
// host's watch flag and roles (from the config, updated when the API changes
// access). Owned by the pipeline on the notifier's worker thread.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "heartbeat/notify/settings.hpp"

namespace heartbeat::notify {

class directory {
 public:
  directory() = default;
  explicit directory(const settings& s) : users_(s.users), default_owner_(effective_default_owner(s)) {
    for (const auto& [name, a] : s.hosts) set_host(name, a);
  }

  const std::vector<user_settings>& users() const { return users_; }
  bool has_users() const { return !users_.empty(); }
  const user_settings* find_user(std::string_view n) const {
    for (const auto& u : users_)
      if (u.name == n) return &u;
    return nullptr;
  }

  // A user added or changed through the API (keeps per-user settings the
  // update does not carry when `u.channel_settings` is empty).
  void set_user(user_settings u) {
    for (auto& x : users_)
      if (x.name == u.name) {
        if (u.channel_settings.size() == 0) u.channel_settings = x.channel_settings;
        x = std::move(u);
        return;
      }
    users_.push_back(std::move(u));
  }
  void remove_user(std::string_view name) {
    std::erase_if(users_, [&](const user_settings& u) { return u.name == name; });
  }

  // A plain host (plain_access) is held as no entry: it routes the same.
  void set_host(const std::string& name, host_access a) {
    if (plain_access(a, default_owner_))
      hosts_.erase(name);
    else
      hosts_[name] = std::move(a);
  }
  std::size_t held_hosts() const noexcept { return hosts_.size(); }
  void set_watch(const std::string& name, bool watch) { hosts_[name].watch = watch; }
  void remove_host(const std::string& name) { hosts_.erase(name); }

  // Hosts not in the config are watched and owned by default_owner.
  bool watched(const std::string& host) const {
    auto it = hosts_.find(host);
    return it == hosts_.end() || it->second.watch;
  }

  // Any role on the host (owner, manager, monitor) or admin (docs/NOTIFICATIONS.md, "The pipeline").
  bool concerns(const user_settings& u, const std::string& host) const {
    if (u.admin) return true;
    auto it = hosts_.find(host);
    std::string_view owner = it == hosts_.end() || it->second.owner.empty()
                                 ? std::string_view(default_owner_)
                                 : std::string_view(it->second.owner);
    if (owner == u.name) return true;
    if (it == hosts_.end()) return false;
    for (const auto& m : it->second.managers)
      if (m == u.name) return true;
    for (const auto& m : it->second.monitors)
      if (m == u.name) return true;
    return false;
  }

 private:
  std::vector<user_settings> users_;
  std::unordered_map<std::string, host_access> hosts_;
  std::string default_owner_;
};

}  // namespace heartbeat::notify
