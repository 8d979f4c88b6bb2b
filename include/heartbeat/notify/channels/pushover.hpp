// The Pushover channel: a form POST to the messages API (token, user, title,
// message, priority 1 for CRITICAL); worker thread.
#pragma once

#include "heartbeat/notify/channels/common.hpp"

namespace heartbeat::notify::channels {

class pushover : public http_channel<1> {
 public:
  using http_channel::http_channel;

  send_status notify(const message& m) {
    std::string user = user_or(m, cfg_, "user", "user");
    if (user.empty()) return send_status::fatal("no Pushover user key");
    std::string text = m.digest ? m.body : m.title;
    if (text.size() > 1024) text.resize(1024);  // the API's message limit
    std::string form = "token=" + detail::url_encode(str(cfg_, "token")) +
                       "&user=" + detail::url_encode(user) +
                       "&title=" + detail::url_encode(m.digest ? m.title : "heartbeat: " + m.source.host) +
                       "&message=" + detail::url_encode(text) +
                       "&priority=" + (m.source.level == level::critical ? "1" : "0") +
                       "&timestamp=" + std::to_string(static_cast<long long>(m.source.ts));
    return detail::http_post(request(m, str(cfg_, "url", "https://api.pushover.net/1/messages.json"),
                                     "application/x-www-form-urlencoded", std::move(form)));
  }
};

}  // namespace heartbeat::notify::channels
