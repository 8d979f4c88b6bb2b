// Every built-in notifier type and make_channel(), which builds the configured,
// named channel for a validated `notifiers.<n>` entry; called once at start-up.
#pragma once

#include <optional>

#include "heartbeat/notify/channels/email.hpp"
#include "heartbeat/notify/channels/mattermost.hpp"
#include "heartbeat/notify/channels/pushover.hpp"
#include "heartbeat/notify/channels/signal.hpp"
#include "heartbeat/notify/channels/webhook.hpp"
#include "heartbeat/notify/settings.hpp"

namespace heartbeat::notify {

static_assert(notifier<channels::email> && notifier<channels::pushover> && notifier<channels::mattermost> &&
              notifier<channels::signal> && notifier<channels::webhook>);

inline std::optional<channel> make_channel(const notifier_config& c) {
  if (c.type == "email") return channel(c.name, channels::email(c.raw));
  if (c.type == "pushover") return channel(c.name, channels::pushover(c.raw));
  if (c.type == "mattermost") return channel(c.name, channels::mattermost(c.raw));
  if (c.type == "signal") return channel(c.name, channels::signal(c.raw));
  if (c.type == "webhook") return channel(c.name, channels::webhook(c.raw));
  return std::nullopt;
}

}  // namespace heartbeat::notify
