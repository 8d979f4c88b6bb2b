// The Mattermost channel: a JSON POST {"text", "channel", "username"} to an
// incoming webhook; worker thread.
#pragma once

#include "heartbeat/notify/channels/common.hpp"

namespace heartbeat::notify::channels {

class mattermost {
 public:
  static const notifier_schema& schema() { return schemas::all[2]; }

  explicit mattermost(const json::value& cfg) : cfg_(cfg) {}

  send_status notify(const message& m) {
    json::value body = json::value::object();
    body.set("text", m.digest ? m.body : m.title);
    std::string channel = user_or(m, cfg_, "channel", "channel");
    if (!channel.empty()) body.set("channel", channel);
    if (std::string u = str(cfg_, "username"); !u.empty()) body.set("username", u);
    detail::http_request r;
    r.url = str(cfg_, "url");
    r.timeout = timeout_of(cfg_);
    r.tls = tls_of(cfg_);
    r.headers = {"Content-Type: application/json"};
    add_id_header(r.headers, m);
    r.body = body.dump();
    return detail::http_post(r);
  }

 private:
  json::value cfg_;
};

}  // namespace heartbeat::notify::channels
