// hbd::effective_config (every key in force, defaults filled in) and redact_secrets (what
// `hbd --print-config` and GET /api/0/config mask).
#include <gtest/gtest.h>

#include "heartbeat/config/yaml.hpp"
#include "heartbeat/hbd/config.hpp"
#include "heartbeat/hbd/redact.hpp"

namespace hs = heartbeat::hbd;
namespace hc = heartbeat::config;
using heartbeat::json::value;

namespace {

value effective(const std::string& yaml) {
  auto v = hc::parse_yaml(yaml);
  EXPECT_TRUE(v) << (v ? "" : v.err().message);
  hc::diagnostics d;
  hs::config c = hs::load_config(v ? *v : value::object(), d);
  EXPECT_FALSE(d.has_errors());
  return hs::redact_secrets(hs::effective_config(c));
}

std::string str(const value& root, const char* key) {
  const value* v = root.find(key);
  return v && v->is_string() ? v->as_string() : std::string("<missing>");
}

double num(const value& root, const char* key) {
  const value* v = root.find(key);
  return v && v->is_number() ? v->as_number() : -1;
}

}  // namespace

TEST(effective_config, built_in_defaults_name_every_key) {
  value c = effective("{}");
  EXPECT_EQ(str(c, "accept_hosts"), "any");
  EXPECT_EQ(num(c, "max_hosts"), 100000);
  EXPECT_EQ(num(c, "max_new_hosts_per_minute"), 6000);
  EXPECT_EQ(num(c, "max_plugins_per_host"), 64);
  ASSERT_NE(c.find("http_hosts"), nullptr);
  EXPECT_TRUE(c.find("http_hosts")->is_array());
  ASSERT_NE(c.find("trusted_proxies"), nullptr);
  EXPECT_EQ(num(c, "http_max_connections"), 4096);
  EXPECT_EQ(num(c, "http_max_connections_per_ip"), 64);
  EXPECT_EQ(num(c, "http_max_body"), 1048576);
  EXPECT_EQ(num(c, "http_header_timeout"), 10);
  EXPECT_EQ(str(c, "timezone"), "UTC");
  EXPECT_EQ(num(c, "threshold_renotify_backoff"), 1);
  EXPECT_EQ(num(c, "threshold_renotify_max"), 86400);
  ASSERT_NE(c.find("escalations"), nullptr);
  EXPECT_TRUE(c.find("escalations")->is_object());
  ASSERT_NE(c.find("escalation_default"), nullptr);
  EXPECT_TRUE(c.find("escalation_default")->is_null());
  const value* p = c.find("partition");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(num(*p, "threshold"), 0.3);
  EXPECT_EQ(num(*p, "min_hosts"), 10);
  EXPECT_EQ(num(*p, "window"), 60);
  ASSERT_NE(p->find("canaries"), nullptr);
  EXPECT_TRUE(p->find("canaries")->is_array());
  for (const char* section : {"checks", "services", "rotas"}) {
    ASSERT_NE(c.find(section), nullptr) << section;
    EXPECT_TRUE(c.find(section)->is_object()) << section;
  }
  ASSERT_NE(c.find("remote_write"), nullptr);
  EXPECT_TRUE(c.find("remote_write")->is_array());
  EXPECT_EQ(str(c, "store"), "");
  const value* cl = c.find("cluster");
  ASSERT_NE(cl, nullptr);
  EXPECT_EQ(str(*cl, "node"), heartbeat::server::cluster_settings_of(value::object()).node);
  EXPECT_EQ(num(*cl, "lease"), 10);
}

TEST(effective_config, written_values_and_per_host_keys_stay) {
  value c = effective(R"(
accept_hosts: configured
http_hosts: [hb.example.com]
http_header_timeout: 30s
timezone: Europe/Berlin
threshold_renotify_backoff: 2
notifiers:
  mail: {type: email, smtp_host: localhost, from: hbd@example.com, to: [ops@example.com]}
escalations:
  oncall:
    - {after: 0, channels: [mail]}
escalation_default: oncall
partition: {threshold: 0.5}
hosts:
  web01: {escalation: oncall, owner: alice}
cluster: {lease: 20}
store: postgresql://hbd@db.example.com/heartbeat
)");
  EXPECT_EQ(str(c, "accept_hosts"), "configured");
  EXPECT_EQ(c.find("http_hosts")->as_array().size(), 1u);
  EXPECT_EQ(num(c, "http_header_timeout"), 30);
  EXPECT_EQ(str(c, "timezone"), "Europe/Berlin");
  EXPECT_EQ(num(c, "threshold_renotify_backoff"), 2);
  EXPECT_EQ(str(c, "escalation_default"), "oncall");
  EXPECT_EQ(num(*c.find("partition"), "threshold"), 0.5);
  EXPECT_EQ(num(*c.find("partition"), "min_hosts"), 10);
  const value* web01 = c.find("hosts")->find("web01");
  ASSERT_NE(web01, nullptr);
  EXPECT_EQ(str(*web01, "escalation"), "oncall");
  EXPECT_EQ(str(*web01, "owner"), "alice");
  EXPECT_EQ(web01->find("key"), nullptr);
  EXPECT_EQ(num(*c.find("cluster"), "lease"), 20);
  EXPECT_EQ(str(c, "store"), "postgresql://hbd@db.example.com/heartbeat");
}

TEST(redact_secrets, masks_passwords_in_connection_strings_and_urls) {
  EXPECT_EQ(hs::detail::mask_url_passwords("postgresql://hbd:s3cret@db:5432/heartbeat"),
            "postgresql://hbd:***@db:5432/heartbeat");
  EXPECT_EQ(hs::detail::mask_url_passwords("https://u:p%40ss@example.com/write?x=1"),
            "https://u:***@example.com/write?x=1");
  EXPECT_EQ(hs::detail::mask_url_passwords("https://u:a@b@example.com"), "https://u:***@example.com");
  // Nothing to mask: a user without password, a port, no URL.
  EXPECT_EQ(hs::detail::mask_url_passwords("postgresql://hbd@db:5432/x"), "postgresql://hbd@db:5432/x");
  EXPECT_EQ(hs::detail::mask_url_passwords("http://127.0.0.1:8428/api/v1/write"),
            "http://127.0.0.1:8428/api/v1/write");
  EXPECT_EQ(hs::detail::mask_url_passwords("/var/lib/heartbeat"), "/var/lib/heartbeat");
  EXPECT_EQ(hs::detail::mask_password_pairs("host=db user=hbd password=s3cret dbname=hb"),
            "host=db user=hbd password=*** dbname=hb");
  EXPECT_EQ(hs::detail::mask_password_pairs("host=db password = 'a b\\' c' port=5432"),
            "host=db password = *** port=5432");
  EXPECT_EQ(hs::detail::mask_password_pairs("PASSWORD=a"), "PASSWORD=***");
  EXPECT_EQ(hs::detail::mask_password_pairs("postgresql://db/hb?user=u&password=p&sslmode=require"),
            "postgresql://db/hb?user=u&password=***&sslmode=require");
  EXPECT_EQ(hs::detail::mask_password_pairs("old_password=x mypassword=y"), "old_password=x mypassword=y");

  auto v = hc::parse_yaml(R"(
store: "host=db user=hbd password=pg-secret-1 dbname=hb"
remote_write:
  - {name: vm, url: "https://rw:rw-secret-1@vm.example.com/api/v1/write"}
notifiers:
  hook: {type: webhook, url: "https://hook:hook-secret-1@example.com/in"}
)");
  ASSERT_TRUE(v);
  value r = hs::redact_secrets(*v);
  std::string text = r.dump();
  for (const char* secret : {"pg-secret-1", "rw-secret-1", "hook-secret-1"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << text;
  EXPECT_EQ(r.find("store")->as_string(), "host=db user=hbd password=*** dbname=hb");
  EXPECT_EQ(r.find("remote_write")->as_array()[0].find("url")->as_string(),
            "https://rw:***@vm.example.com/api/v1/write");
}
