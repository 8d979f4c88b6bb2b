// The WebSocket stream (`/hbd` on ws_port, `/ws` on hbd_port, both on wss_port): every client gets
// host, plugin, message, alert and dropped events as {"type","data"} text frames, filtered by the client's
// roles. Each client has a bounded send buffer; one that falls behind is dropped, never waited for.
// Lives on the io thread; events arrive from the registry's event_bus on the same thread.
#pragma once

#include <restinio/all.hpp>
#include <restinio/websocket/websocket.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "heartbeat/api/auth.hpp"
#include "heartbeat/api/backend.hpp"
#include "heartbeat/bus/events.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::api {

namespace rws = restinio::websocket::basic;

class websocket_hub {
 public:
  struct limits {
    std::size_t max_pending_bytes = 4u << 20;  // queued but not yet written, per client
    std::size_t max_clients = 10000;
  };

  websocket_hub(backend& b, limits l) : backend_(b), limits_(l) {}
  ~websocket_hub() { close_all(); }

  // Who is on the other end: an empty user means unauthenticated mode (sees everything).
  struct identity {
    std::optional<user> who;  // nullopt: open mode
    std::string token;        // session token, to disconnect on logout
    double expires = 0;       // session deadline, monotonic (0: never)
  };

  bool full() const noexcept { return clients_.size() >= limits_.max_clients; }

  // Upgrades `req` (already authenticated) and registers the client.
  template <class Traits>
  void accept(restinio::generic_request_t<restinio::no_extra_data_factory_t::data_t>& req, identity id) {
    auto c = std::make_shared<client>();
    c->id = next_id_++;
    c->ident = std::move(id);
    std::weak_ptr<client> weak = c;
    c->ws = rws::upgrade<Traits>(req, rws::activation_t::immediate,
                                 [this, weak](rws::ws_handle_t wsh, rws::message_handle_t m) {
                                   on_frame(weak, std::move(wsh), std::move(m));
                                 });
    clients_[c->id] = c;
    log::debug("api: websocket client ", c->id, " connected (", clients_.size(), " clients)");
  }

  // Delivers one registry event to every client allowed to see its host.
  void publish(const bus::event& e, double now) {  // now: monotonic (session deadlines)
    if (clients_.empty()) return;
    // `dropped` ({"name","removed":true}) lets pages remove a deleted host at once.
    if (e.kind != bus::event_kind::host && e.kind != bus::event_kind::plugin &&
        e.kind != bus::event_kind::message && e.kind != bus::event_kind::alert &&
        e.kind != bus::event_kind::dropped)
      return;
    std::string text = "{\"type\":";
    json::write_string(text, bus::to_string(e.kind));
    text += ",\"data\":";
    e.data.dump_to(text);
    text += "}";
    auto payload = std::make_shared<std::string>(std::move(text));
    std::optional<host_access> access;  // looked up once per event, only if someone needs it
    std::vector<std::uint64_t> drop;
    for (auto& [id, c] : clients_) {
      if (c->ident.expires > 0 && c->ident.expires <= now) {
        drop.push_back(id);
        continue;
      }
      if (c->ident.who && !c->ident.who->admin) {
        if (e.host.empty()) continue;
        if (!access) access = backend_.access(e.host);
        if (role_on(*c->ident.who, *access) == role::none) continue;
      }
      if (c->pending + payload->size() > limits_.max_pending_bytes) {
        ++slow_dropped_;
        log::warn("api: websocket client ", id, " dropped: ", c->pending, " bytes not yet sent");
        drop.push_back(id);
        continue;
      }
      send(c, payload);
    }
    for (auto id : drop) close(id, true);
  }

  // Disconnects every client of a session (logout) or of a user (deleted account).
  void revoke(std::string_view token, std::string_view user_name) {
    std::vector<std::uint64_t> drop;
    for (auto& [id, c] : clients_) {
      bool by_token = !token.empty() && c->ident.token == token;
      bool by_user = !user_name.empty() && c->ident.who && c->ident.who->name == user_name;
      if (by_token || by_user) drop.push_back(id);
    }
    for (auto id : drop) close(id, true);
  }

  void close_all() {
    std::vector<std::uint64_t> ids;
    for (auto& [id, c] : clients_) ids.push_back(id);
    for (auto id : ids) close(id, true);
  }

  std::size_t size() const noexcept { return clients_.size(); }
  std::uint64_t slow_dropped() const noexcept { return slow_dropped_; }
  std::uint64_t sent() const noexcept { return sent_; }

 private:
  struct client {
    std::uint64_t id = 0;
    identity ident;
    rws::ws_handle_t ws;
    std::size_t pending = 0;
  };

  void send(const std::shared_ptr<client>& c, const std::shared_ptr<std::string>& payload) {
    if (!c->ws) return;
    std::size_t n = payload->size();
    c->pending += n;
    std::weak_ptr<client> weak = c;
    try {
      c->ws->send_message(rws::final_frame, rws::opcode_t::text_frame, restinio::writable_item_t{payload},
                          [weak, n](const asio::error_code&) {
                            if (auto cl = weak.lock()) cl->pending -= std::min(n, cl->pending);
                          });
      ++sent_;
    } catch (const std::exception& ex) {
      log::debug("api: websocket send failed: ", ex.what());
    }
  }

  void on_frame(const std::weak_ptr<client>& weak, rws::ws_handle_t wsh, rws::message_handle_t m) {
    auto c = weak.lock();
    switch (m->opcode()) {
      case rws::opcode_t::ping_frame: {
        try {
          wsh->send_message(rws::final_frame, rws::opcode_t::pong_frame,
                            restinio::writable_item_t{m->payload()});
        } catch (const std::exception&) {
        }
        break;
      }
      case rws::opcode_t::connection_close_frame:
        // RESTinio already echoed the close frame (or the connection is gone): forget the client.
        if (c) clients_.erase(c->id);
        break;
      default: break;  // the stream is one-way; text from clients is ignored
    }
  }

  void close(std::uint64_t id, bool send_close) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    auto c = std::move(it->second);
    clients_.erase(it);
    if (c->ws) {
      auto ws = std::move(c->ws);
      try {
        if (send_close)
          ws->kill();  // no close handshake with a client that is too slow or no longer authorised
        else
          ws->shutdown();
      } catch (const std::exception&) {
      }
    }
  }

  backend& backend_;
  limits limits_;
  std::unordered_map<std::uint64_t, std::shared_ptr<client>> clients_;
  std::uint64_t next_id_ = 1;
  std::uint64_t slow_dropped_ = 0;
  std::uint64_t sent_ = 0;
};

}  // namespace heartbeat::api
