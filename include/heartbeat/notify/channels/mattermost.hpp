// The Mattermost channel: a JSON POST {"text", "channel", "username"} to an
// incoming webhook; worker thread.
#pragma once

#include "heartbeat/notify/channels/common.hpp"

namespace heartbeat::notify::channels {

class mattermost : public http_channel<2> {
 public:
  using http_channel::http_channel;

  send_status notify(const message& m) {
    json::value body = json::value::object();
    body.set("text", m.digest ? m.body : m.title);
    std::string channel = user_or(m, cfg_, "channel", "channel");
    if (!channel.empty()) body.set("channel", channel);
    if (std::string u = str(cfg_, "username"); !u.empty()) body.set("username", u);
    return detail::http_post(request(m, str(cfg_, "url"), "application/json", body.dump()));
  }
};

}  // namespace heartbeat::notify::channels
