// The notifier concept (Cabot's alert plugin, Alertmanager's integration): a
// channel type has a display name, a slug, a config schema and per-user
// settings, and notify() says whether delivery worked and, if not, whether a
// retry can help. Channels run on the notifier's worker thread only.
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/notify/notification.hpp"
#include "heartbeat/notify/schema.hpp"

namespace heartbeat::notify {

// What one channel delivers to one recipient (a user or, with no users, everyone).
struct message {
  std::string title;    // mail subject / push title: the notification's text (or the digest headline)
  std::string body;     // the text plus details (digests: one line per folded notification)
  notification source;  // the notification (for digests: the first folded one, kind digest)
  std::vector<notification> items;  // digests: every folded notification
  std::string user;                 // empty when no users are configured
  json::value user_settings;        // users.<u>.notification_settings.<slug>, or null
  bool digest = false;
};

// Success, or an error that a retry may fix (timeouts, 5xx, 429) or not (4xx, bad login).
struct send_status {
  bool ok = true;
  bool recoverable = false;
  std::string error;

  static send_status success() { return {}; }
  static send_status retry(std::string e) { return {false, true, std::move(e)}; }
  static send_status fatal(std::string e) { return {false, false, std::move(e)}; }
};

template <class N>
concept notifier = requires(N& n, const message& m) {
  { N::schema() } -> std::same_as<const notifier_schema&>;  // name, slug, keys, user keys
  { n.notify(m) } -> std::same_as<send_status>;
};

// A configured, named channel with its type erased (the pipeline holds a list).
class channel {
 public:
  channel() = default;
  template <notifier N>
  channel(std::string name, N impl)
      : name_(std::move(name)), slug_(N::schema().slug), impl_(std::make_shared<model<N>>(std::move(impl))) {}

  // For tests and for senders that are not a notifier type.
  channel(std::string name, std::string slug, std::function<send_status(const message&)> fn)
      : name_(std::move(name)), slug_(std::move(slug)), impl_(std::make_shared<fn_model>(std::move(fn))) {}

  const std::string& name() const { return name_; }
  const std::string& slug() const { return slug_; }
  send_status notify(const message& m) const {
    return impl_ ? impl_->notify(m) : send_status::fatal("no channel");
  }

 private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual send_status notify(const message& m) = 0;
  };
  template <class N>
  struct model final : concept_t {
    explicit model(N n) : n_(std::move(n)) {}
    send_status notify(const message& m) override { return n_.notify(m); }
    N n_;
  };
  struct fn_model final : concept_t {
    explicit fn_model(std::function<send_status(const message&)> f) : f_(std::move(f)) {}
    send_status notify(const message& m) override { return f_(m); }
    std::function<send_status(const message&)> f_;
  };

  std::string name_;
  std::string slug_;
  std::shared_ptr<concept_t> impl_;
};

// Builds the mail/push text of a single notification.
inline message make_message(const notification& n) {
  message m;
  m.title = n.text;
  m.body = n.text + "\n\nhost: " + n.host + "\nkind: " + to_string(n.kind) +
           "\nlevel: " + to_string(n.level) + "\ntime: " + iso_time(n.ts) + "\n";
  if (!n.metric_path.empty()) m.body += "metric: " + n.metric_path + "\n";
  m.source = n;
  return m;
}

// The JSON a webhook receives (and tests read): the notification's fields.
inline json::value to_json(const notification& n) {
  json::value v = json::value::object();
  v.set("host", n.host);
  v.set("kind", to_string(n.kind));
  v.set("level", to_string(n.level));
  v.set("text", n.text);
  if (!n.metric_path.empty()) v.set("metric_path", n.metric_path);
  if (!std::isnan(n.value)) v.set("value", n.value);
  if (!std::isnan(n.threshold)) v.set("threshold", n.threshold);
  if (!n.from.empty()) v.set("from", n.from);
  if (!n.to.empty()) v.set("to", n.to);
  if (n.duration > 0) v.set("duration", n.duration);
  v.set("ts", n.ts);
  return v;
}

}  // namespace heartbeat::notify
