// hbd's user accounts, wired: the config file's users with the API's changes on top
// (user_overlay.hpp), restored from the store, persisted on every change, and kept
// in step with the notifier's routing. Gives the HTTP side its effective users.
// io thread.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "heartbeat/api/settings.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/hbd/core.hpp"
#include "heartbeat/hbd/notifying.hpp"
#include "heartbeat/hbd/persistence.hpp"
#include "heartbeat/hbd/registry_backend.hpp"
#include "heartbeat/hbd/user_overlay.hpp"

namespace heartbeat::hbd {

class accounts {
 public:
  accounts(core& c, persistence& p, notifying& n) : c_(c), persist_(p), notify_(n) {}

  // The API changes of earlier runs, from the store's snapshot.
  void start() { overlay_.load(persist_.take_users()); }

  // The API's settings with the effective users; brings the notifier's routing along.
  api::settings api_settings() {
    api::settings s = settings_from(c_.cfg);
    config_users_ = s.users;
    std::vector<std::string> stale;
    s.users = overlay_.apply(config_users_, &stale);
    double now = clock::wall_now();
    for (const auto& n : stale)
      if (auto* st = persist_.store()) st->forget_user(n, now);
    users_now_.clear();
    for (const auto& u : s.users) users_now_[u.name] = u;
    if (auto* svc = notify_.service()) sync_notifier_users(*svc, notify_.settings(), config_users_, s.users);
    return s;
  }

  // A user was created, changed or deleted through /api/0/users: persist it, route by it.
  void changed(const api::user_directory& d) {
    double now = clock::wall_now();
    auto changes = overlay_.diff(users_now_, d.all(), config_users_, now);
    if (changes.empty()) return;
    notify::settings base = notify_.settings();
    for (auto& ch : changes) {
      if (on_user_change) on_user_change(ch.name, ch.record);
      if (auto* st = persist_.store(); st && !st->put_user(ch.name, std::move(ch.record), now))
        log::error("users: store queue full: the change of user '", ch.name, "' is not saved");
      if (auto* svc = notify_.service()) {
        if (ch.u)
          svc->set_user(notify_user(*ch.u, base));
        else
          svc->remove_user(ch.name);
      }
    }
    users_now_ = d.all();
  }

  // Several nodes: told of each user change made here (name, store record) ...
  std::function<void(const std::string& name, const std::string& record)> on_user_change;

  // ... and given the other nodes' ones: the overlay takes the record (already in the shared
  // store) and the effective users follow; returns them for the HTTP side.
  std::vector<api::user> apply_remote(const std::string& name, const json::value& record) {
    std::map<std::string, json::value> one{{name, record}};
    overlay_.merge(one);
    return api_settings().users;
  }

 private:
  core& c_;
  persistence& persist_;
  notifying& notify_;
  user_overlay overlay_;
  std::vector<api::user> config_users_;         // as the config file defines them
  std::map<std::string, api::user> users_now_;  // effective: what the API serves
};

}  // namespace heartbeat::hbd
