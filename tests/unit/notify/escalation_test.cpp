// Escalation ladders through the whole pipeline with recording channels, as time steps
// forward: who is told at each step, what the journal says, and what stops the climb.
#include "heartbeat/notify/stages/escalate.hpp"

#include <gmock/gmock.h>

#include <deque>

#include "heartbeat/config/yaml.hpp"
#include "heartbeat/notify/pipeline.hpp"

using namespace heartbeat;
using namespace heartbeat::notify;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

namespace {

const char* ladder_config = R"(
notifiers:
  chat: {type: webhook, url: "http://chat"}
  pager: {type: webhook, url: "http://pager"}
  bossmail: {type: webhook, url: "http://mail"}
users:
  boss: {notification_channels: [bossmail]}
  admin: {admin: true, notification_channels: [chat]}
escalations:
  oncall:
    - {after: 0, channels: [chat]}
    - {after: 900, channels: [pager]}
    - {after: 3600, users: [boss]}
hosts:
  db01: {escalation: oncall}
threshold_renotify_backoff: 2
)";

struct fixture {
  settings s;
  std::vector<std::string> sent;  // "channel/user: title"
  std::vector<journal_record> journal;
  std::unique_ptr<pipeline> p;
  explicit fixture(const std::string& yaml) {
    config::diagnostics d;
    s = load_config(*config::parse_yaml(yaml), d);
    for (const auto& i : d.items) ADD_FAILURE() << i.text();
    std::vector<channel> cs;
    for (const auto& n : s.notifiers)
      cs.emplace_back(n.name, "webhook", [this, name = n.name](const message& m) {
        sent.push_back(name + "/" + m.user + ": " + m.title);
        return send_status::success();
      });
    p = std::make_unique<pipeline>(s, std::move(cs),
                                   [this](const journal_record& r) { journal.push_back(r); });
  }
  // Steps to `now` and returns what was sent since the last call.
  std::vector<std::string> at(double now) {
    p->tick(now);
    auto out = std::move(sent);
    sent.clear();
    return out;
  }
  std::vector<std::string> reasons(outcome o) const {
    std::vector<std::string> out;
    for (const auto& r : journal)
      if (r.outcome == o) out.push_back(r.reason);
    return out;
  }
};

notification raise(const std::string& host, level from, level to, double v = 95) {
  notification n;
  n.host = host;
  n.metric_path = "cpu_monitor.cpu_percent";
  n.level = to;
  n.severity = std::max(from, to);
  n.from = to_string(from);
  n.to = to_string(to);
  n.text = alert_text(host, n.metric_path, n.from, n.to, v);
  return n;
}

}  // namespace

// The ladder of the issue: chat at once, pager after 15 minutes, the boss (a user, on their own
// channel) after an hour; recovery to everyone who was told.
TEST(NotifyEscalation, LadderClimbsUntilRecovery) {
  fixture f(ladder_config);
  f.p->process(raise("db01", level::ok, level::critical), 100);
  EXPECT_THAT(f.at(100), ElementsAre("chat/: CRITICAL: db01 - cpu_monitor.cpu_percent = 95.0"));
  EXPECT_THAT(f.at(999), IsEmpty());
  EXPECT_THAT(f.at(1000), ElementsAre("pager/: CRITICAL: db01 - cpu_monitor.cpu_percent = 95.0"));
  EXPECT_THAT(f.reasons(outcome::escalated), ElementsAre("escalated: step 2 after 900s, not acknowledged"));
  EXPECT_THAT(f.at(3699), IsEmpty());
  EXPECT_THAT(f.at(3700), ElementsAre("bossmail/boss: CRITICAL: db01 - cpu_monitor.cpu_percent = 95.0"));
  EXPECT_THAT(f.reasons(outcome::escalated), ElementsAre("escalated: step 2 after 900s, not acknowledged",
                                                         "escalated: step 3 after 3600s, not acknowledged"));
  EXPECT_EQ(f.journal.back().host, "db01");
  // A reminder goes to everyone reached so far.
  notification r = raise("db01", level::critical, level::critical);
  r.kind = kind::reminder;
  r.text = "REMINDER (CRITICAL): db01 - cpu_monitor.cpu_percent = 95.0 (ongoing for 3800s)";
  f.p->process(r, 3900);
  EXPECT_THAT(f.at(3900), ElementsAre("chat/: " + r.text, "pager/: " + r.text, "bossmail/boss: " + r.text));
  f.p->process(raise("db01", level::critical, level::ok, 10), 4000);
  EXPECT_THAT(
      f.at(4000),
      ElementsAre("chat/: RECOVERED: db01 - cpu_monitor.cpu_percent = 10.0 (CRITICAL -> OK)",
                  "pager/: RECOVERED: db01 - cpu_monitor.cpu_percent = 10.0 (CRITICAL -> OK)",
                  "bossmail/boss: RECOVERED: db01 - cpu_monitor.cpu_percent = 10.0 (CRITICAL -> OK)"));
  EXPECT_EQ(f.p->escalation().open_episodes(), 0u);
  EXPECT_THAT(f.at(100000), IsEmpty());
}

// Acknowledging stops the climb; the recovery still reaches those told before.
TEST(NotifyEscalation, AcknowledgementStopsTheClimb) {
  fixture f(ladder_config);
  f.p->process(raise("db01", level::ok, level::warning), 0);
  EXPECT_EQ(f.at(0).size(), 1u);
  f.p->acknowledge("db01", "cpu_monitor.cpu_percent");
  EXPECT_THAT(f.at(900), IsEmpty());
  EXPECT_THAT(f.at(7200), IsEmpty());
  EXPECT_THAT(f.reasons(outcome::escalated), IsEmpty());
  f.p->process(raise("db01", level::warning, level::ok, 10), 8000);
  EXPECT_THAT(f.at(8000),
              ElementsAre("chat/: RECOVERED: db01 - cpu_monitor.cpu_percent = 10.0 (WARNING -> OK)"));
}

// A recovery before the next step ends the episode: no later step runs.
TEST(NotifyEscalation, RecoveryEndsTheEpisode) {
  fixture f(ladder_config);
  f.p->process(raise("db01", level::ok, level::warning), 0);
  f.at(0);
  f.p->process(raise("db01", level::warning, level::ok, 10), 500);
  EXPECT_THAT(f.at(500),
              ElementsAre("chat/: RECOVERED: db01 - cpu_monitor.cpu_percent = 10.0 (WARNING -> OK)"));
  EXPECT_THAT(f.at(5000), IsEmpty());
}

// Hosts without a ladder are routed by roles as before (the admin on chat); host DOWN climbs
// the same ladder when the host has one.
TEST(NotifyEscalation, OtherHostsAndHostDown) {
  fixture f(ladder_config);
  f.p->process(raise("web01", level::ok, level::warning), 0);
  EXPECT_THAT(f.at(0), ElementsAre("chat/admin: WARNING: web01 - cpu_monitor.cpu_percent = 95.0"));
  notification down;
  down.host = "db01";
  down.kind = kind::host_down;
  down.level = down.severity = level::critical;
  down.text = down_text("db01", 75);
  f.p->process(down, 10);
  EXPECT_THAT(f.at(10), ElementsAre("chat/: DOWN: db01 - no heartbeat for 75s"));
  EXPECT_THAT(f.at(910), ElementsAre("pager/: DOWN: db01 - no heartbeat for 75s"));
  notification up = down;
  up.kind = kind::host_up;
  up.level = level::ok;
  up.text = up_text("db01", "DOWN", 1000);
  f.p->process(up, 1010);
  EXPECT_THAT(f.at(1010),
              ElementsAre("chat/: UP: db01 - was DOWN for 1000s", "pager/: UP: db01 - was DOWN for 1000s"));
}

// escalation_default as a mapping of host globs; an explicit ladder (a service of the active
// checks) wins over the host's.
TEST(NotifyEscalation, DefaultsGlobsAndExplicitLadders) {
  config::diagnostics d;
  auto p = read_escalations(*config::parse_yaml(R"(
notifiers: {chat: {type: webhook, url: "http://c"}, pager: {type: webhook, url: "http://p"}}
escalations:
  dba: [{after: 0, channels: [pager]}]
  oncall: [{after: 0, channels: [chat]}]
escalation_default: {"db-*": dba, "*": oncall}
hosts: {web01: {escalation: dba}}
)"),
                            d);
  EXPECT_THAT(d.items, IsEmpty());
  EXPECT_EQ(p.for_host("db-7")->name, "dba");
  EXPECT_EQ(p.for_host("web01")->name, "dba");
  EXPECT_EQ(p.for_host("mail")->name, "oncall");
  EXPECT_EQ(p.for_subject("mail", "dba")->name, "dba");
  EXPECT_EQ(p.find("nope"), nullptr);
  auto q = read_escalations(*config::parse_yaml(R"(
notifiers: {chat: {type: webhook, url: "http://c"}}
escalations: {oncall: [{after: 0, channels: [chat]}]}
escalation_default: oncall
)"),
                            d);
  EXPECT_EQ(q.for_host("anything")->name, "oncall");
}

TEST(NotifyEscalation, Diagnostics) {
  auto diagnose = [](const std::string& yaml) {
    config::diagnostics d;
    (void)load_config(*config::parse_yaml(yaml), d);
    std::vector<std::string> out;
    for (const auto& i : d.items) out.push_back(i.text());
    return out;
  };
  auto d = diagnose(R"(
notifiers: {chat: {type: webhook, url: "http://c"}}
escalations:
  oncall:
    - {after: 900, channels: [chat]}
    - {after: 0, channels: [pager]}
    - {after: 1000}
    - {channels: [chat], users: [ghost], colour: red}
  empty: []
escalation_default: nightshift
hosts: {db01: {escalation: 5}}
)");
  EXPECT_THAT(d, Contains("escalations.oncall.1.after: must not be earlier than the step before (900s)"));
  EXPECT_THAT(d, Contains("escalations.oncall.1.channels.0: no notifier named \"pager\""));
  EXPECT_THAT(d, Contains("escalations.oncall.2: needs channels (notifier names) and/or users"));
  EXPECT_THAT(d, Contains("escalations.oncall.3.after: is required (seconds since the alert fired, 0 for "
                          "the first step)"));
  EXPECT_THAT(d, Contains("escalations.oncall.3.colour: unknown key (ignored)"));
  EXPECT_THAT(d, Contains("escalations.oncall.3.users.0: no user \"ghost\" in the configuration (it must "
                          "exist when the step runs)"));
  EXPECT_THAT(d, Contains("escalations.empty: must be a list of steps like {after: 900, channels: [pager]}"));
  EXPECT_THAT(d, Contains("escalation_default: unknown escalation \"nightshift\" (known: empty, oncall)"));
  EXPECT_THAT(d, Contains("hosts.db01.escalation: must be the name of an escalation ladder"));
}

// A ladder whose first step comes later holds the notification back until then.
TEST(NotifyEscalation, FirstStepLater) {
  fixture f(R"(
notifiers: {pager: {type: webhook, url: "http://p"}}
escalations: {late: [{after: 60, channels: [pager]}]}
escalation_default: late
)");
  f.p->process(raise("h", level::ok, level::critical), 0);
  EXPECT_THAT(f.at(0), IsEmpty());
  EXPECT_THAT(f.reasons(outcome::suppressed), ElementsAre("escalation: first step later"));
  EXPECT_THAT(f.at(60), ElementsAre("pager/: CRITICAL: h - cpu_monitor.cpu_percent = 95.0"));
  EXPECT_THAT(f.reasons(outcome::escalated), ElementsAre("escalated: step 1 after 60s, not acknowledged"));
}

// A step that comes due while the host is in maintenance is journaled and suppressed.
TEST(NotifyEscalation, StepsRespectMaintenance) {
  fixture f(R"(
notifiers: {chat: {type: webhook, url: "http://c"}, pager: {type: webhook, url: "http://p"}}
escalations: {oncall: [{after: 0, channels: [chat]}, {after: 100, channels: [pager]}]}
escalation_default: oncall
maintenance: [{name: late-night, hosts: [db01], start: 50, end: 500}]
)");
  f.p->process(raise("db01", level::ok, level::critical), 0);
  EXPECT_EQ(f.at(0).size(), 1u);
  EXPECT_THAT(f.at(100), IsEmpty());
  EXPECT_THAT(f.reasons(outcome::escalated), ElementsAre("escalated: step 2 after 100s, not acknowledged"));
  EXPECT_THAT(f.reasons(outcome::suppressed), ElementsAre("maintenance"));
}
