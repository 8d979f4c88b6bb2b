// The `checks`, `services` and `rotas` sections: defaults, descriptions, and every error with
// its key path.
#include "heartbeat/checks/config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "heartbeat/config/yaml.hpp"

using namespace heartbeat;

namespace {

checks::checks_config load(const std::string& yaml, std::vector<std::string>* diags = nullptr) {
  auto tree = config::parse_yaml(yaml);
  EXPECT_TRUE(tree.ok());
  config::diagnostics d;
  auto c = checks::load_checks_config(*tree, d);
  for (const auto& i : d.items) {
    if (diags)
      diags->push_back(i.text());
    else
      ADD_FAILURE() << "unexpected diagnostic: " << i.text();
  }
  return c;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

}  // namespace

TEST(ChecksConfig, TheExampleOfTheDocs) {
  auto c = load(R"(
users: {alice: {}, bob: {}, carol: {}, dave: {}}
checks:
  shop-front:
    type: http
    url: https://shop.example.com/health
    method: GET
    expect_status: [200]
    expect_body: "ok|healthy"
    interval: 60
    timeout: 10
    retries: 1
    level: CRITICAL
    host: web01
  shop-db:   {type: tcp, address: db01.example.com, port: 5432}
  gateway:   {type: icmp, address: 192.0.2.1, count: 3}
  shop-dns:  {type: dns, server: 192.0.2.53, port: 53, query: shop.example.com, record: A, expect: [192.0.2.10]}
  shop-cert: {type: tls, address: shop.example.com, port: 443, warn_days: 21, critical_days: 7}
  smtp:      {type: nagios, command: [/usr/lib/nagios/plugins/check_smtp, -H, mx.example.com]}
services:
  shop:
    checks: [shop-front, shop-db, shop-cert]
    hosts: [web01, db01]
    users: [alice]
    rota: ops
    status_page: true
rotas:
  ops:
    users: [alice, bob, carol]
    shift: 7d
    start: "2026-12-07T09:00:00"
    timezone: Europe/Berlin
    overrides: [{user: dave, from: "2026-12-24T00:00:00", to: "2026-12-27T00:00:00"}]
)");
  ASSERT_EQ(c.checks.size(), 6u);
  const auto* front = c.find_check("shop-front");
  ASSERT_NE(front, nullptr);
  EXPECT_EQ(front->type(), "http");
  EXPECT_EQ(front->host, "web01");
  EXPECT_EQ(front->retries, 1u);
  EXPECT_EQ(front->description(),
            "HTTP GET https://shop.example.com/health expecting 200 and a body matching /ok|healthy/");
  const auto* db = c.find_check("shop-db");
  EXPECT_EQ(db->interval, 60);
  EXPECT_EQ(db->timeout, 10);
  EXPECT_EQ(db->level, alert::level::critical);
  EXPECT_EQ(db->description(), "TCP connect to db01.example.com:5432");
  EXPECT_EQ(c.find_check("gateway")->description(), "ICMP echo to 192.0.2.1 (3 pings)");
  EXPECT_EQ(c.find_check("shop-dns")->description(),
            "DNS A shop.example.com at 192.0.2.53:53 expecting 192.0.2.10");
  EXPECT_EQ(c.find_check("shop-cert")->description(),
            "TLS certificate of shop.example.com:443 (warning 21 days, failing 7 days before expiry)");
  EXPECT_EQ(c.find_check("smtp")->description(), "Nagios plugin check_smtp -H mx.example.com");
  ASSERT_EQ(c.services.size(), 1u);
  EXPECT_EQ(c.services_of("shop-db"), std::vector<std::string>{"shop"});
  EXPECT_TRUE(c.services[0].status_page);
  ASSERT_NE(c.find_rota("ops"), nullptr);
  EXPECT_EQ(c.find_rota("ops")->overrides.size(), 1u);
}

TEST(ChecksConfig, TimeoutDefaultsToTheIntervalWhenShorter) {
  auto c = load("checks: {a: {type: tcp, address: x, port: 1, interval: 5}}\n");
  EXPECT_EQ(c.find_check("a")->timeout, 5);
  std::vector<std::string> d;
  load("checks: {a: {type: tcp, address: x, port: 1, interval: 5, timeout: 8}}\n", &d);
  EXPECT_TRUE(has(d, "checks.a.timeout: is longer than the interval: a run still going skips the next one"));
}

TEST(ChecksConfig, ErrorsNameTheirKeys) {
  std::vector<std::string> d;
  auto c = load(R"(
users: {alice: {}}
checks:
  "no/slash": {type: tcp, address: x, port: 1}
  a: {type: tcp, port: 70000}
  b: {type: http, url: "https://x", body: "x"}
  c: {type: icmp, address: x, count: 0}
  e: {type: tls, address: x, ca_file: /nonexistent/ca.pem}
  f: {address: x}
  g: {type: tcp, address: x, port: 1, level: UNKNOWN, retries: -1, interval: 0.5, colour: red}
services:
  s: {checks: [a, missing], users: [zed], rota: r}
rotas:
  r: {users: [alice], shift: 30, start: "2026-12-07T09:00:00", overrides: [{user: bob, from: "2026-12-24T00:00:00", to: "2026-12-23T00:00:00"}]}
)",
                &d);
  EXPECT_TRUE(c.checks.empty());
  for (const char* want : {
           "checks.no/slash: a check name has only letters, digits, '.', '-' and '_'",
           "checks.a.address: is required (a host name or an IP address)",
           "checks.a.port: must be between 1 and 65535",
           "checks.b.body: needs method: POST",
           "checks.c.count: must be between 1 and 100",
           "checks.e.ca_file: cannot read /nonexistent/ca.pem: No such file or directory",
           "checks.f.type: is required (http | tcp | icmp | dns | tls | nagios)",
           "checks.g.level: must be one of WARNING CRITICAL (got \"UNKNOWN\")",
           "checks.g.retries: must be between 0 and 100",
           "checks.g.interval: must be at least 1 second",
           "checks.g.colour: unknown key (ignored)",
           "services.s.checks.1: no check \"missing\" in `checks`",
           "services.s.users.0: no user \"zed\" in `users`",
           "rotas.r.shift: must be at least 60 seconds (e.g. 12h, 7d)",
           "rotas.r.overrides.0.to: must be after `from`",
       })
    EXPECT_TRUE(has(d, want)) << want;
}

TEST(ChecksConfig, PasswordsInUrlsAreNotShown) {
  auto c = load("checks: {a: {type: http, url: \"https://bot:s3cret@shop.example.com/health?x=1\"}}\n");
  EXPECT_EQ(c.find_check("a")->description(),
            "HTTP GET https://bot:***@shop.example.com/health?x=1 expecting 2xx or 3xx");
  c = load("checks: {a: {type: http, url: \"https://shop.example.com/a@b:c\"}}\n");
  EXPECT_EQ(c.find_check("a")->description(), "HTTP GET https://shop.example.com/a@b:c expecting 2xx or 3xx");
}

TEST(ChecksConfig, ServicesNameAnEscalationLadder) {
  auto c = load(R"(
escalations:
  oncall: [{after: 0, channels: [chat]}]
checks: {a: {type: tcp, address: x, port: 1}}
services:
  s: {checks: [a], escalation: oncall}
  t: {checks: [a]}
)");
  EXPECT_EQ(c.find_service("s")->escalation, "oncall");
  EXPECT_EQ(c.find_service("t")->escalation, "");
  std::vector<std::string> d;
  c = load(R"(
escalations:
  oncall: [{after: 0, channels: [chat]}]
checks: {a: {type: tcp, address: x, port: 1}}
services:
  s: {checks: [a], escalation: pager}
  t: {checks: [a], escalation: ""}
)",
           &d);
  EXPECT_TRUE(has(d, "services.s.escalation: no escalation \"pager\" in `escalations`"));
  EXPECT_TRUE(has(d, "services.t.escalation: must be the name of an escalation ladder"));
  EXPECT_EQ(c.find_service("s")->escalation, "");
  d.clear();
  load("checks: {a: {type: tcp, address: x, port: 1}}\nservices: {s: {checks: [a], escalation: oncall}}\n", &d);
  EXPECT_TRUE(has(d, "services.s.escalation: no escalation \"oncall\" in `escalations`"));
}

TEST(ChecksConfig, RotasWithoutTheirOwnZoneUseTheServers) {
  auto c = load(R"(
timezone: Europe/Berlin
rotas:
  plain: {users: [a, b], shift: 1d, start: "2026-12-07T09:00:00"}
  own: {users: [a, b], shift: 1d, start: "2026-12-07T09:00:00", timezone: America/New_York}
)");
  EXPECT_EQ(c.find_rota("plain")->tz.name(), "Europe/Berlin");
  EXPECT_EQ(c.find_rota("plain")->start, 1796630400.0);  // 2026-12-07 08:00 UTC
  EXPECT_EQ(c.find_rota("own")->tz.name(), "America/New_York");
  EXPECT_EQ(c.find_rota("own")->start, 1796652000.0);  // 2026-12-07 14:00 UTC
  c = load("rotas: {plain: {users: [a], shift: 1d, start: \"2026-12-07T09:00:00\"}}\n");
  EXPECT_TRUE(c.find_rota("plain")->tz.is_utc());
  EXPECT_EQ(c.find_rota("plain")->start, 1796634000.0);  // 2026-12-07 09:00 UTC
}
