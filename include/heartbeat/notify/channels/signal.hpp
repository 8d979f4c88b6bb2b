// The Signal channel: signal-cli REST API `POST <url>/v2/send` with
// {"message", "number", "recipients"}; worker thread.
#pragma once

#include "heartbeat/notify/channels/common.hpp"

namespace heartbeat::notify::channels {

class signal : public http_channel<3> {
 public:
  using http_channel::http_channel;

  send_status notify(const message& m) {
    auto recipients = user_or_list(m, cfg_, "recipients", "recipients");
    if (recipients.empty()) return send_status::fatal("no Signal recipients");
    json::value body = json::value::object();
    body.set("message", m.digest ? m.body : m.title);
    body.set("number", str(cfg_, "number"));
    json::value rc = json::value::array();
    for (auto& x : recipients) rc.push_back(x);
    body.set("recipients", std::move(rc));
    std::string base = str(cfg_, "url");
    while (!base.empty() && base.back() == '/') base.pop_back();
    return detail::http_post(request(m, base + "/v2/send", "application/json", body.dump()));
  }
};

}  // namespace heartbeat::notify::channels
