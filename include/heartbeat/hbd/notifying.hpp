// hbd's notifier, wired: the notify::service (its pipeline and channels on a worker
// thread) hears host, alert and dropped events on the bus, journals what became of
// each notification (also into the store's event log, with every alert transition:
// hbd/event_log.hpp), asks the alert engine's live maintenance windows, counts per
// channel in /metrics, and runs partition detection on the monitor's tick. Reloaded on
// SIGHUP; stopped with a bounded wait. io thread.
#pragma once

#include <memory>
#include <string_view>
#include <utility>

#include "heartbeat/hbd/alerting.hpp"
#include "heartbeat/hbd/core.hpp"
#include "heartbeat/hbd/event_log.hpp"
#include "heartbeat/hbd/persistence.hpp"
#include "heartbeat/notify/service.hpp"
#include "heartbeat/notify/settings.hpp"

namespace heartbeat::hbd {

class notifying {
 public:
  notifying(core& c, persistence& p, alerting& a) : c_(c), persist_(p), alerts_(a) {}

  void start() {
    service_ = std::make_unique<notify::service>(
        settings(),
        [this](const notify::journal_record& r) {
          if (auto* j = persist_.journal()) j->append_record("notification", r.ts, r.host, r.to_json());
          if (auto* s = persist_.store()) s->put_event(event_from_record(r));
        },
        c_.poster());
    service_->set_maintenance_check(alerts_.maintenance_check());
    for (auto& m : service_->metric_series())
      c_.stats.add_gauge(std::move(m.name), std::move(m.help), std::move(m.read));
    service_->start();
    c_.reg.events().subscribe(service_->sink(), bus::event_bit(bus::event_kind::host) |
                                                    bus::event_bit(bus::event_kind::alert) |
                                                    bus::event_bit(bus::event_kind::dropped));
    log_alert_events(c_.reg.events(), persist_.store());
    // Partition detection: the hosts' states as restored, then the monitor's tick.
    const clock::instant now = clock::now();
    for (const server::host* h : c_.reg.hosts())
      service_->seed_host(h->name, server::to_string(h->state), now);
    c_.monitor.on_tick = [this, prev = std::move(c_.monitor.on_tick)](clock::instant t) {
      if (prev) prev(t);
      if (service_) service_->tick(t);
    };
  }

  // For the active checks: a check named in `partition.canaries` reports whether it passes (a
  // failing canary means hbd itself is cut off). A check's alert event may name an escalation
  // ladder with "escalation": "<name>" (names: notify::read_escalations(root, d).find()).
  void report_canary(std::string_view check, bool ok) {
    if (service_) service_->report_canary(check, ok, clock::now());
  }

  void reload() {
    if (service_) service_->reload(settings(), alerts_.maintenance_check());
  }

  void stop() {
    if (service_) service_->stop(2);
  }

  notify::service* service() noexcept { return service_.get(); }

  // The notifier settings of the running configuration (errors were reported when it was loaded).
  notify::settings settings() const {
    cfg::diagnostics quiet;
    return notify::load_config(c_.cfg.root, quiet);
  }

 private:
  core& c_;
  persistence& persist_;
  alerting& alerts_;
  std::unique_ptr<notify::service> service_;
};

}  // namespace heartbeat::hbd
