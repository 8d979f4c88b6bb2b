// hbd's HTTP side, wired: the API backend over the registry, the alert engine, the
// active checks and the store, and the RESTinio servers (hbd_port, ws_port, wss_port) on the io
// thread with the effective users. Started last, stopped first. io thread.
#pragma once

#include <memory>

#include "heartbeat/api/http_server.hpp"
#include "heartbeat/hbd/accounts.hpp"
#include "heartbeat/hbd/alerting.hpp"
#include "heartbeat/hbd/core.hpp"
#include "heartbeat/hbd/feed_backend.hpp"
#include "heartbeat/hbd/persistence.hpp"

namespace heartbeat::hbd {

class http {
 public:
  http(core& c, persistence& p, alerting& a, accounts& u, checking& k)
      : c_(c), persist_(p), alerts_(a), accounts_(u), checks_(k) {}

  // Binds the listeners; error code "tls" means a bad certificate (exit 2).
  result<void> start() {
    backend_ = std::make_unique<feed_backend>(c_.reg, c_.stats, c_.cfg);
    backend_->set_checks(&checks_);
    backend_->set_store(persist_.store());
    backend_->set_engine(&alerts_.engine());
    backend_->on_users_changed = [this](const api::user_directory& d) { accounts_.changed(d); };
    server_ = std::make_unique<api::http_server>(c_.io, accounts_.api_settings(), *backend_);
    return server_->start();
  }

  void reload() {
    if (!server_) return;
    backend_->set_config(c_.cfg);
    server_->reload(accounts_.api_settings());
  }

  void stop() {
    if (server_) server_->stop();
  }

  // For the parts started after this one (the cluster's change feed); null before start().
  feed_backend* backend() noexcept { return backend_.get(); }
  api::http_server* server() noexcept { return server_.get(); }

 private:
  core& c_;
  persistence& persist_;
  alerting& alerts_;
  accounts& accounts_;
  checking& checks_;
  std::unique_ptr<feed_backend> backend_;
  std::unique_ptr<api::http_server> server_;
};

}  // namespace heartbeat::hbd
