// The generic webhook channel: a JSON POST of the notification (digests carry
// every folded item), signed with `X-Heartbeat-Signature: sha256=<hex HMAC-SHA256
// of the body>` when a secret is set, `X-Heartbeat-Id` (the notification's stable id), plus
// configured headers; worker thread.
#pragma once

#include "heartbeat/notify/channels/common.hpp"
#include "heartbeat/notify/detail/hmac.hpp"

namespace heartbeat::notify::channels {

class webhook : public http_channel<4> {
 public:
  using http_channel::http_channel;

  static std::string payload(const message& m) {
    json::value body = to_json(m.source);
    if (!m.source.id.empty()) body.set("id", m.source.id);
    if (!m.user.empty()) body.set("user", m.user);
    if (m.digest) {
      body.set("digest", true);
      body.set("text", m.title);
      json::value items = json::value::array();
      for (const auto& n : m.items) items.push_back(to_json(n));
      body.set("items", std::move(items));
    }
    return body.dump();
  }

  send_status notify(const message& m) {
    detail::http_request r = request(m, str(cfg_, "url"), "application/json", payload(m));
    if (std::string secret = str(cfg_, "secret"); !secret.empty())
      r.headers.push_back("X-Heartbeat-Signature: sha256=" + detail::hmac_sha256_hex(secret, r.body));
    if (const json::value* h = cfg_.find("headers"); h && h->is_object())
      for (const auto& [k, v] : h->as_object())
        if (v.is_string()) r.headers.push_back(k + ": " + v.as_string());
    return detail::http_post(r);
  }
};

}  // namespace heartbeat::notify::channels
