// The Signal channel: signal-cli REST API `POST <url>/v2/send` with
// {"message", "number", "recipients"}; worker thread.
#pragma once

#include "heartbeat/notify/channels/common.hpp"

namespace heartbeat::notify::channels {

class signal {
 public:
  static const notifier_schema& schema() { return schemas::all[3]; }

  explicit signal(const json::value& cfg) : cfg_(cfg) {}

  send_status notify(const message& m) {
    auto recipients = user_or_list(m, cfg_, "recipients", "recipients");
    if (recipients.empty()) return send_status::fatal("no Signal recipients");
    json::value body = json::value::object();
    body.set("message", m.digest ? m.body : m.title);
    body.set("number", str(cfg_, "number"));
    json::value rc = json::value::array();
    for (auto& x : recipients) rc.push_back(x);
    body.set("recipients", std::move(rc));
    detail::http_request r;
    std::string base = str(cfg_, "url");
    while (!base.empty() && base.back() == '/') base.pop_back();
    r.url = base + "/v2/send";
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
