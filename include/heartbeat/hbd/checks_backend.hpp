// The API's backend with active checks: registry_backend plus the checks, services, rotas and
// public status pages of hbd's checks part (hbd/checks.hpp), with the caller's roles taken from
// the registry. io thread only, like registry_backend.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "heartbeat/hbd/checks.hpp"
#include "heartbeat/hbd/registry_backend.hpp"

namespace heartbeat::hbd {

class checks_backend : public registry_backend {
 public:
  using registry_backend::registry_backend;

  void set_checks(checking* c) { checks_ = c; }

  json::value checks_json(const api::user* who) const override {
    return checks_ ? checks_->checks_json(viewer_of(who)) : json::value();
  }
  json::value check_json(std::string_view name, const api::user* who) const override {
    const checks::check_def* d = visible_check(name, who);
    return d ? checks_->check_json(*d, true) : json::value();
  }
  void run_check(std::string_view name, const api::user* who,
                 std::function<void(result<json::value>)> done) override {
    const checks::check_def* d = visible_check(name, who);
    if (!d) return done(make_error("not_found", "no check named " + std::string(name)));
    if (!checks_->may_run(*d, viewer_of(who)))
      return done(make_error("forbidden", "running a check needs the manager role on its host or service"));
    checks_->run_now(d->name, [done = std::move(done)](json::value r) {
      if (r.is_null()) return done(make_error("not_found", "the check was removed"));
      done(std::move(r));
    });
  }
  result<json::value> ack_check(std::string_view name, const api::user* who, std::string_view by) override {
    const checks::check_def* d = visible_check(name, who);
    if (!d) return make_error("not_found", "no check named " + std::string(name));
    if (!checks_->may_run(*d, viewer_of(who)))
      return make_error("forbidden", "acknowledging a check needs the manager role on its host or service");
    return checks_->ack(*d, by);
  }
  json::value services_json(const api::user* who) const override {
    return checks_ ? checks_->services_json(viewer_of(who)) : json::value();
  }
  json::value service_json(std::string_view name, const api::user* who) const override {
    if (!checks_) return json::value();
    const checks::service_def* s = checks_->config().find_service(name);
    const auto v = viewer_of(who);
    if (!s || !checks_->service_visible(*s, v)) return json::value();
    return checks_->service_json(*s, &v);
  }
  json::value rotas_json(const api::user*) const override {
    return checks_ ? checks_->rotas_json() : json::value();
  }
  json::value status_json(std::string_view service) const override {
    return checks_ ? checks_->status_json(service) : json::value();
  }
  void write_alerts_for(std::string& out, std::size_t host_count,
                        const std::function<bool(std::string_view)>& visible,
                        const api::user* who) const override {
    if (!checks_ || !engine()) return registry_backend::write_alerts_for(out, host_count, visible, who);
    const auto v = viewer_of(who);
    engine()->write_alerts(out, host_count, [&](std::string_view host, std::string_view path) {
      if (auto mine = checks_->alert_visible(host, path, v)) return *mine;
      return visible(host);
    });
  }

 private:
  checking* checks_ = nullptr;

  checking::viewer viewer_of(const api::user* who) const {
    checking::viewer v;
    if (!who || who->admin) return v;
    v.all = false;
    v.user = who->name;
    v.role = [this, who](std::string_view host) {
      return has_host(host) ? api::role_on(*who, access(host)) : api::role::none;
    };
    return v;
  }

  const checks::check_def* visible_check(std::string_view name, const api::user* who) const {
    if (!checks_) return nullptr;
    const checks::check_def* d = checks_->find(name);
    return d && checks_->check_visible(*d, viewer_of(who)) ? d : nullptr;
  }
};

}  // namespace heartbeat::hbd
