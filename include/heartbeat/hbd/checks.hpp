// hbd's active checks, wired: the definitions from `checks`, `services` and `rotas` (again on
// SIGHUP: added, changed and removed checks), the scheduler and the runs on the io thread, each
// check's state (restored from the store, saved back every few seconds), and their place in the
// alert engine: a check's pass/fail is the alert `check.<name>` (on its host, or under its own
// name), its metrics are samples of the plugin `checks`, and the alert events name the users to
// tell (its services' users and the rotas' on-duty people) and the services' escalation ladder.
// Each result also reports the partition canaries (`partition.canaries`) to the notifier and
// goes out as samples for remote write. The API reads it through checks_backend.hpp. io thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "heartbeat/api/auth.hpp"
#include "heartbeat/checks/check.hpp"
#include "heartbeat/checks/config.hpp"
#include "heartbeat/checks/runtime.hpp"
#include "heartbeat/checks/scheduler.hpp"
#include "heartbeat/checks/state.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/hbd/alerting.hpp"
#include "heartbeat/hbd/core.hpp"
#include "heartbeat/hbd/notifying.hpp"
#include "heartbeat/hbd/persistence.hpp"
#include "heartbeat/remote_write/wire.hpp"

namespace heartbeat::hbd {

class checking {
 public:
  static constexpr std::size_t max_in_flight = 1000;  // runs at once; more wait their turn
  static constexpr double save_every = 5;             // seconds between store writes of changed states

  // Who asks (the API): everyone (open mode, admins) or one user with their roles on hosts.
  struct viewer {
    bool all = true;
    std::string user;
    std::function<api::role(std::string_view host)> role;
  };

  // Where the results go as samples for remote write (hbd/remote_write.hpp's add_sample); unset: nowhere.
  std::function<void(std::string_view name, std::span<const remote_write::label> labels, double ts,
                     double value)>
      add_sample;

  checking(core& c, persistence& p, alerting& a, notifying& n) : c_(c), persist_(p), alerts_(a), notify_(n) {}
  checking(const checking&) = delete;
  checking& operator=(const checking&) = delete;

  void start() {
    rt_ = std::make_shared<checks::runtime>(c_.io.get_executor());
    sched_ = std::make_unique<checks::scheduler>(c_.io.get_executor(), max_in_flight,
                                                 [this](const std::string& n) { launch(n); });
    cfg::diagnostics quiet;  // load_config reported them
    conf_ = checks::load_checks_config(c_.cfg.root, quiet);
    auto stored = persist_.take_state("check:");
    for (const auto& def : conf_.checks) {
      item& it = items_[def->name];
      it.def = def;
      if (auto s = stored.find("check:" + def->name); s != stored.end())
        if (auto v = json::parse(s->second)) it.st.restore(*v);
    }
    reconcile_alerts();
    for (const auto& def : conf_.checks) sched_->add_spread(def->name, def->interval);
    alerts_.decorate = [this](const alert::transition& t, json::value& data) { decorate(t, data); };
    c_.monitor.every_second = [this, prev = std::move(c_.monitor.every_second)](clock::instant t) {
      if (prev) prev(t);
      const double now = t.wall;
      if (now - last_save_ >= save_every) save(now);
    };
    add_gauges();
    if (!conf_.checks.empty())
      log::info("checks: ", conf_.checks.size(), " checks, ", conf_.services.size(), " services, ",
                conf_.rotas.size(), " rotas");
  }

  // SIGHUP: new definitions; unchanged checks keep their schedule, changed ones start afresh (their
  // state kept), removed ones are forgotten with their alert.
  void reload() {
    if (!sched_) return;
    cfg::diagnostics quiet;
    checks::checks_config next = checks::load_checks_config(c_.cfg.root, quiet);
    std::size_t added = 0, changed = 0, removed = 0;
    for (auto it = items_.begin(); it != items_.end();) {
      if (next.find_check(it->first)) {
        ++it;
        continue;
      }
      sched_->remove(it->first);
      for (auto& w : it->second.waiters) w(json::value());  // "run now" callers: the check is gone
      alerts_.engine().forget(alert_host(*it->second.def), "check." + it->first);
      if (auto* s = persist_.store()) s->put_state("check:" + it->first, "null", clock::wall_now());
      it = items_.erase(it);
      ++removed;
    }
    for (const auto& def : next.checks) {
      auto found = items_.find(def->name);
      if (found == items_.end()) {
        items_[def->name].def = def;
        sched_->add_spread(def->name, def->interval);
        ++added;
        continue;
      }
      item& it = found->second;
      if (it.def->raw == def->raw) continue;
      if (alert_host(*it.def) != alert_host(*def))
        alerts_.engine().forget(alert_host(*it.def), "check." + def->name);
      it.def = def;
      sched_->add_spread(def->name, def->interval);
      ++changed;
    }
    conf_ = std::move(next);
    if (added || changed || removed)
      log::info("checks: reload: ", added, " added, ", changed, " changed, ", removed, " removed");
  }

  void stop() {
    if (!sched_) return;
    sched_->stop();
    save(clock::wall_now());
    alive_.reset();
  }

  // The configuration in force.
  const checks::checks_config& config() const noexcept { return conf_; }

  // Who may see a check, a service; who may run a check (manager of its host or of a service
  // listing it: a user of the service or a manager of one of its hosts).
  bool check_visible(const checks::check_def& d, const viewer& v) const {
    if (v.all) return true;
    if (!d.host.empty() && v.role(d.host) != api::role::none) return true;
    for (const auto& s : conf_.services)
      if (contains(s.checks, d.name) && service_visible(s, v)) return true;
    return false;
  }
  bool service_visible(const checks::service_def& s, const viewer& v) const {
    if (v.all || contains(s.users, v.user)) return true;
    for (const auto& h : s.hosts)
      if (v.role(h) != api::role::none) return true;
    for (const auto& c : s.checks)
      if (const auto* d = conf_.find_check(c); d && !d->host.empty() && v.role(d->host) != api::role::none)
        return true;
    return false;
  }
  bool may_run(const checks::check_def& d, const viewer& v) const {
    if (v.all) return true;
    if (!d.host.empty() && v.role(d.host) >= api::role::manager) return true;
    for (const auto& s : conf_.services) {
      if (!contains(s.checks, d.name)) continue;
      if (contains(s.users, v.user)) return true;
      for (const auto& h : s.hosts)
        if (v.role(h) >= api::role::manager) return true;
    }
    return false;
  }
  // Whether an alert of the engine belongs to a check `v` may see: `check.<name>`, or a threshold
  // alert on the samples of a check without a host (whose alerts live under the check's name).
  // nullopt: not a check's alert.
  std::optional<bool> alert_visible(std::string_view host, std::string_view metric_path,
                                    const viewer& v) const {
    const checks::check_def* d = nullptr;
    if (metric_path.rfind("check.", 0) == 0) d = conf_.find_check(metric_path.substr(6));
    if (!d)
      if (const auto* h = conf_.find_check(host); h && h->host.empty()) d = h;
    if (!d) return std::nullopt;
    return check_visible(*d, v);
  }

  const checks::check_def* find(std::string_view name) const { return conf_.find_check(name); }
  // The alert engine's host of a check: its host, else its own name.
  static std::string alert_host(const checks::check_def& d) { return d.host.empty() ? d.name : d.host; }

  // GET /api/0/checks: the checks `v` may see, by name.
  json::value checks_json(const viewer& v) const {
    json::value list = json::value::array();
    for (const auto* d : sorted_checks())
      if (check_visible(*d, v)) list.push_back(check_json(*d, false));
    return json::value::object({{"checks", std::move(list)}});
  }
  // One check with its recent results (`history`, oldest first) and last metrics.
  json::value check_json(const checks::check_def& d, bool details) const {
    json::value o = json::value::object();
    o.set("name", d.name);
    o.set("type", d.type());
    o.set("description", d.description());
    const checks::check_state* st = state_of(d.name);
    checks::check_state none;
    if (!st) st = &none;
    o.set("status", checks::to_string(st->status));
    o.set("level", alert::to_string(st->status == checks::check_status::failing ? st->level : d.level));
    o.set("error", st->error.empty() ? json::value() : json::value(st->error));
    o.set("response_ms", finite_or_null(st->response_ms));
    o.set("last_run", st->last_run > 0 ? json::value(st->last_run) : json::value());
    o.set("last_change", st->last_change > 0 ? json::value(st->last_change) : json::value());
    o.set("host", d.host.empty() ? json::value() : json::value(d.host));
    o.set("services", string_array(conf_.services_of(d.name)));
    o.set("interval", d.interval);
    o.set("timeout", d.timeout);
    o.set("retries", d.retries);
    o.set("failures", st->failures);
    if (details) {
      json::value h = json::value::array();
      for (const auto& e : st->history) h.push_back(checks::to_json(e));
      o.set("history", std::move(h));
      o.set("metrics", st->metrics);
      o.set("running", sched_ && sched_->running(d.name));
    }
    return o;
  }

  // Runs a check now; `done` gets the result (as the API shows a run) on the io thread.
  void run_now(const std::string& name, std::function<void(json::value)> done) {
    auto it = items_.find(name);
    if (it == items_.end() || !sched_) return done(json::value());
    it->second.waiters.push_back(std::move(done));
    sched_->run_now(name);  // false: a run is going already, and its result answers
  }

  // GET /api/0/services.
  json::value services_json(const viewer& v) const {
    json::value list = json::value::array();
    for (const auto* s : sorted_services())
      if (service_visible(*s, v)) list.push_back(service_json(*s, nullptr));
    return json::value::object({{"services", std::move(list)}});
  }
  // One service; with `v`, also its checks in full (those `v` may see) and its hosts' states.
  json::value service_json(const checks::service_def& s, const viewer* v) const {
    json::value o = json::value::object();
    o.set("name", s.name);
    o.set("status", service_status(s));
    o.set("checks", string_array(s.checks));
    o.set("hosts", string_array(s.hosts));
    o.set("users", string_array(s.users));
    o.set("on_duty", string_array(on_duty(s, clock::wall_now())));
    o.set("rota", s.rota.empty() ? json::value() : json::value(s.rota));
    o.set("status_page", s.status_page);
    if (v) {
      json::value details = json::value::array();
      for (const auto& c : s.checks)
        if (const auto* d = conf_.find_check(c); d && check_visible(*d, *v))
          details.push_back(check_json(*d, true));
      o.set("check_details", std::move(details));
      json::value hosts = json::value::object();
      for (const auto& h : s.hosts) {
        const server::host* hp = c_.reg.find(h);
        hosts.set(h, hp ? server::to_string(hp->state) : "UNKNOWN");
      }
      o.set("host_states", std::move(hosts));
    }
    return o;
  }

  // GET /api/0/rotas: who is on duty and who is next.
  json::value rotas_json() const {
    const double now = clock::wall_now();
    json::value list = json::value::array();
    std::vector<const checks::rota*> v;
    for (const auto& r : conf_.rotas) v.push_back(&r);
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->name < b->name; });
    for (const auto* r : v) {
      json::value o = json::value::object();
      o.set("name", r->name);
      o.set("on_duty", r->on_duty(now));
      if (auto n = r->next_change(now))
        o.set("next", json::value::object({{"user", n->first}, {"at", n->second}}));
      else
        o.set("next", json::value());
      o.set("users", string_array(r->users));
      o.set("shift", r->shift);
      o.set("timezone", r->tz.name());
      o.set("start", r->start);
      list.push_back(std::move(o));
    }
    return json::value::object({{"rotas", std::move(list)}});
  }

  // GET /api/0/status/{service} (public): names and states only; null unless status_page is on.
  json::value status_json(std::string_view service) const {
    const checks::service_def* s = conf_.find_service(service);
    if (!s || !s->status_page) return json::value();
    json::value list = json::value::array();
    for (const auto& c : s->checks) {
      const checks::check_state* st = state_of(c);
      json::value o = json::value::object();
      o.set("name", c);
      o.set("status", checks::to_string(st ? st->status : checks::check_status::unknown));
      o.set("level", st && st->status == checks::check_status::failing ? alert::to_string(st->level) : "OK");
      list.push_back(std::move(o));
    }
    return json::value::object({{"service", s->name},
                                {"status", service_status(*s)},
                                {"checks", std::move(list)},
                                {"updated", clock::wall_now()}});
  }

  // Acknowledges a check's alert (published like the engine's own acknowledgements).
  result<json::value> ack(const checks::check_def& d, std::string_view by) {
    auto t = alerts_.engine().ack(alert_host(d), "check." + d.name, by, clock::wall_now());
    if (!t) return make_error(t.err().code == "not_alerting" ? "conflict" : t.err().code, t.err().message);
    json::value data = alert::to_json(*t);
    std::vector<alert::transition> out{std::move(*t)};
    alerts_.publish(out);
    return data;
  }

 private:
  struct item {
    std::shared_ptr<const checks::check_def> def;
    checks::check_state st;
    std::vector<std::function<void(json::value)>> waiters;  // "run now" callers
    bool dirty = false;
  };

  core& c_;
  persistence& persist_;
  alerting& alerts_;
  notifying& notify_;
  std::shared_ptr<checks::runtime> rt_;
  std::unique_ptr<checks::scheduler> sched_;
  checks::checks_config conf_;
  std::unordered_map<std::string, item> items_;
  std::vector<alert::transition> out_;
  std::vector<protocol::leaf> leaves_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // runs finishing after stop() see it gone
  double last_save_ = 0;
  std::uint64_t results_ = 0;

  static bool contains(const std::vector<std::string>& v, std::string_view x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  }
  static json::value finite_or_null(double v) {
    return std::isfinite(v) ? json::value(std::round(v * 1000) / 1000) : json::value();
  }
  static json::value string_array(const std::vector<std::string>& v) {
    json::value a = json::value::array();
    for (const auto& s : v) a.push_back(s);
    return a;
  }

  const checks::check_state* state_of(std::string_view name) const {
    auto it = items_.find(std::string(name));
    return it == items_.end() ? nullptr : &it->second.st;
  }
  std::vector<const checks::check_def*> sorted_checks() const {
    std::vector<const checks::check_def*> v;
    for (const auto& d : conf_.checks) v.push_back(d.get());
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->name < b->name; });
    return v;
  }
  std::vector<const checks::service_def*> sorted_services() const {
    std::vector<const checks::service_def*> v;
    for (const auto& s : conf_.services) v.push_back(&s);
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->name < b->name; });
    return v;
  }

  std::vector<std::string> on_duty(const checks::service_def& s, double now) const {
    std::vector<std::string> out;
    if (const auto* r = conf_.find_rota(s.rota))
      if (std::string u = r->on_duty(now); !u.empty()) out.push_back(std::move(u));
    return out;
  }

  // The worst of its checks (a failing CRITICAL check fails it, a WARNING one warns) and hosts
  // (DOWN fails it, STOPPED warns).
  std::string service_status(const checks::service_def& s) const {
    int worst = 0;
    for (const auto& c : s.checks)
      if (const auto* st = state_of(c); st && st->status == checks::check_status::failing)
        worst = std::max(worst, st->level == alert::level::warning ? 1 : 2);
    for (const auto& h : s.hosts)
      if (const server::host* hp = c_.reg.find(h)) {
        if (hp->state == server::host_state::down) worst = 2;
        if (hp->state == server::host_state::stopped) worst = std::max(worst, 1);
      }
    return worst == 2 ? "failing" : worst == 1 ? "warning" : "passing";
  }

  // "shop - shop-front", "web01 - disk-check", "gateway": what the texts call a check.
  std::string who_is(const checks::check_def& d) const {
    std::string prefix;
    for (const auto& s : conf_.services_of(d.name)) prefix += (prefix.empty() ? "" : ", ") + s;
    if (prefix.empty()) prefix = d.host;
    return prefix.empty() ? d.name : prefix + " - " + d.name;
  }

  // Alert events of checks name their recipients and services.
  void decorate(const alert::transition& t, json::value& data) {
    const checks::check_def* d = nullptr;
    if (t.metric_path.rfind("check.", 0) == 0)
      d = conf_.find_check(std::string_view(t.metric_path).substr(6));
    if (!d) return;
    std::vector<std::string> to;
    const double now = clock::wall_now();
    for (const auto& s : conf_.services) {
      if (!contains(s.checks, d->name)) continue;
      for (const auto& u : s.users)
        if (!contains(to, u)) to.push_back(u);
      for (auto& u : on_duty(s, now))
        if (!contains(to, u)) to.push_back(std::move(u));
    }
    data.set("check", d->name);
    data.set("services", string_array(conf_.services_of(d->name)));
    if (!to.empty()) data.set("recipients", string_array(to));
    for (const auto* s : sorted_services())  // the first service (by name) naming a ladder
      if (!s->escalation.empty() && contains(s->checks, d->name)) {
        data.set("escalation", s->escalation);
        break;
      }
  }

  // After a restore or a reload: alerts of checks no longer configured (or moved to another
  // host) go.
  void reconcile_alerts() {
    std::vector<std::pair<std::string, std::string>> stale;
    alerts_.engine().for_each_state([&](const alert::alert_state& s) {
      if (!s.external_ || s.metric_path.rfind("check.", 0) != 0) return;
      const auto* d = conf_.find_check(std::string_view(s.metric_path).substr(6));
      if (!d || alert_host(*d) != s.host) stale.emplace_back(s.host, s.metric_path);
    });
    for (const auto& [h, p] : stale) alerts_.engine().forget(h, p);
  }

  void launch(const std::string& name) {
    auto it = items_.find(name);
    if (it == items_.end()) {
      asio::post(c_.io, [this, name, alive = std::weak_ptr<int>(alive_)] {
        if (!alive.expired()) sched_->finished(name);
      });
      return;
    }
    std::shared_ptr<const checks::check_def> def = it->second.def;
    asio::co_spawn(
        c_.io, checks::run_check(def, rt_),
        [this, def, alive = std::weak_ptr<int>(alive_)](std::exception_ptr e, checks::check_result r) {
          if (alive.expired()) return;
          if (e) r = checks::check_result::failed("internal error");
          finished(def, std::move(r));
        });
  }

  void finished(const std::shared_ptr<const checks::check_def>& def, checks::check_result r) {
    sched_->finished(def->name);
    auto it = items_.find(def->name);
    if (it == items_.end()) return;
    item& i = it->second;
    auto waiters = std::move(i.waiters);
    i.waiters.clear();
    if (i.def == def) apply(*def, i, r);
    if (!waiters.empty()) {
      json::value answer = checks::to_json(r);
      for (auto& w : waiters) w(answer);
    }
  }

  void apply(const checks::check_def& d, item& i, const checks::check_result& r) {
    ++results_;
    const bool changed = i.st.apply(r, d);
    i.dirty = true;
    const double now = clock::wall_now();
    const std::string host = alert_host(d);
    const bool failing = i.st.status == checks::check_status::failing;
    if (i.st.status != checks::check_status::unknown) {
      std::string subject = who_is(d);
      std::string why;
      if (failing) {
        subject += ": " + i.st.error;
        why = "check failed: " + i.st.error;
        if (d.retries > 0) why += " (" + std::to_string(i.st.failures) + " failed runs in a row)";
      } else {
        why = "check passed";
      }
      alerts_.engine().set_external(host, "check." + d.name, failing ? i.st.level : alert::level::ok,
                                    static_cast<double>(i.st.failures), std::move(subject), why, now, out_);
    }
    feed_samples(d, host, r, now);
    if (!out_.empty()) alerts_.publish(out_);
    if (i.st.status != checks::check_status::unknown) notify_.report_canary(d.name, !failing);
    if (add_sample) write_samples(d, i.st, r);
    if (changed && !failing)  // failures are logged as alerts
      log::info("check: ", d.name, " is ", checks::to_string(i.st.status));
  }

  // The run's numbers as leaves of the plugin `checks` (paths "<name>.response_ms", ...), so that
  // threshold rules apply to them like to any PLG.
  void feed_samples(const checks::check_def& d, const std::string& host, const checks::check_result& r,
                    double now) {
    std::size_t n = 0;
    auto add = [&](std::string_view key, double v) {
      if (!std::isfinite(v)) return;
      if (leaves_.size() <= n) leaves_.emplace_back();
      protocol::leaf& l = leaves_[n++];
      l.path.assign(d.name).append(".").append(key);
      l.type = protocol::leaf::kind::number;
      l.number = v;
    };
    add("response_ms", r.response_ms);
    add("succeeded", r.succeeded() ? 1 : 0);
    for (const auto& [k, v] : r.metrics.as_object()) {
      if (v.is_number()) add(k, v.as_number());
      if (v.is_object())
        for (const auto& [k2, v2] : v.as_object())
          if (v2.is_number()) add(k + "." + k2, v2.as_number());
    }
    alerts_.engine().evaluate_plugin(host, "checks", {leaves_.data(), n}, now, out_);
  }

  // The run for remote write (docs/REMOTE_WRITE.md): heartbeat_check_up (1 passing, 0 failing;
  // nothing before a verdict), heartbeat_check_response_seconds and heartbeat_check_value{metric}
  // for the type's numeric metrics, at the run's start time.
  void write_samples(const checks::check_def& d, const checks::check_state& st,
                     const checks::check_result& r) {
    remote_write::label labels[3] = {{"check", d.name}, {"host", d.host}, {"metric", ""}};
    const std::size_t n = d.host.empty() ? 1 : 2;
    if (d.host.empty()) labels[1] = labels[2];
    const double ts = r.checked_at;
    if (st.status != checks::check_status::unknown)
      add_sample("heartbeat_check_up", {labels, n}, ts, st.status == checks::check_status::passing ? 1 : 0);
    if (std::isfinite(r.response_ms))
      add_sample("heartbeat_check_response_seconds", {labels, n}, ts, r.response_ms / 1000);
    auto value = [&](const std::string& metric, double v) {
      if (!std::isfinite(v)) return;
      labels[n].value = metric;
      add_sample("heartbeat_check_value", {labels, n + 1}, ts, v);
    };
    for (const auto& [k, v] : r.metrics.as_object()) {
      if (v.is_number()) value(k, v.as_number());
      if (v.is_object())
        for (const auto& [k2, v2] : v.as_object())
          if (v2.is_number()) value(k + "." + k2, v2.as_number());
    }
  }

  void save(double now) {
    last_save_ = now;
    auto* s = persist_.store();
    if (!s) return;
    for (auto& [name, i] : items_) {
      if (!i.dirty) continue;
      i.dirty = false;
      s->put_state("check:" + name, i.st.to_store_json().dump(), now);
    }
  }

  void add_gauges() {
    auto& st = c_.stats;
    st.add_gauge("heartbeat_checks_configured", "Active checks configured.",
                 [this] { return static_cast<double>(items_.size()); });
    st.add_gauge("heartbeat_checks_failing", "Active checks failing now.", [this] {
      std::size_t n = 0;
      for (const auto& [_, i] : items_) n += i.st.status == checks::check_status::failing;
      return static_cast<double>(n);
    });
    st.add_gauge("heartbeat_check_runs_total", "Check runs finished.",
                 [this] { return static_cast<double>(results_); });
    st.add_gauge("heartbeat_check_runs_skipped_total",
                 "Check runs skipped: the previous run was still going.",
                 [this] { return static_cast<double>(sched_ ? sched_->counters().skipped : 0); });
    st.add_gauge("heartbeat_checks_in_flight", "Check runs going now.",
                 [this] { return static_cast<double>(sched_ ? sched_->counters().in_flight : 0); });
    st.add_gauge("heartbeat_checks_waiting", "Check runs due and waiting for a free slot.",
                 [this] { return static_cast<double>(sched_ ? sched_->counters().waiting : 0); });
    st.add_gauge("heartbeat_check_start_delay_p50_seconds",
                 "How late check runs started (the last 20000 runs).",
                 [this] { return sched_ ? sched_->start_delay_quantile(0.5) : 0.0; });
    st.add_gauge("heartbeat_check_start_delay_p99_seconds",
                 "How late check runs started (the last 20000 runs).",
                 [this] { return sched_ ? sched_->start_delay_quantile(0.99) : 0.0; });
  }
};

}  // namespace heartbeat::hbd
