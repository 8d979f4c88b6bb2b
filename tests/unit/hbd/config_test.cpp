// hbd::load_config: defaults, every key read, errors with key paths.
#include "heartbeat/hbd/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "heartbeat/config/yaml.hpp"

namespace hs = heartbeat::hbd;
namespace hc = heartbeat::config;

namespace {

hs::config load(const std::string& yaml, hc::diagnostics& d) {
  auto v = hc::parse_yaml(yaml);
  EXPECT_TRUE(v) << (v ? "" : v.err().message);
  return hs::load_config(v ? *v : heartbeat::json::value::object(), d);
}

bool has(const hc::diagnostics& d, const std::string& text) {
  for (const auto& i : d.items)
    if (i.text().find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(server_config, defaults_follow_the_spec) {
  hc::diagnostics d;
  auto c = hs::load_config(heartbeat::json::value::object(), d);
  EXPECT_FALSE(d.has_errors());
  EXPECT_EQ(c.hb_port, 50003);
  EXPECT_EQ(c.hbd_port, 50004);
  EXPECT_EQ(c.ws_port, 50005);
  EXPECT_EQ(c.history_samples, 100u);
  EXPECT_EQ(c.history_retention, 7 * 86400.0);
  EXPECT_EQ(c.max_message_bytes, 1048576u);
  EXPECT_FALSE(c.require_auth);
  EXPECT_EQ(c.auth_window, 120);
  EXPECT_TRUE(c.journal_enabled);
  EXPECT_EQ(c.journal_file, "messages.journal");
  EXPECT_EQ(c.journal_max_size, 104857600u);
  EXPECT_EQ(c.journal_max_backups, 10u);
  EXPECT_EQ(c.session_ttl, 12 * 3600.0);
  EXPECT_NE(c.state_db.find("heartbeat/hbd.sqlite"), std::string::npos);
}

TEST(server_config, reads_hosts_users_and_durations) {
  hc::diagnostics d;
  auto c = load(R"(
hb_port: 6000
grace: 2m
history_retention: 3d
pickfile: /tmp/x.sqlite
users:
  alice: {full_name: Alice, password: "pbkdf2:sha256:1$a$b", admin: true, notification_channels: [mail]}
default_owner: alice
notifiers:
  mail: {type: webhook, url: "http://127.0.0.1:9/hook"}
threshold_configs:
  tight: {thresholds: {cpu_monitor: {cpu_percent: {warning: 60, critical: 75}}}}
  db: {thresholds: {}}
hosts:
  web01:
    key: 0123456789abcdef0123
    watch: false
    dyn: true
    threshold_config: [tight, db]
    owner: alice
    managers: bob
)",
                d);
  EXPECT_FALSE(d.has_errors()) << (d.items.empty() ? "" : d.items[0].text());
  EXPECT_EQ(c.hb_port, 6000);
  EXPECT_EQ(c.grace, 120);
  EXPECT_EQ(c.history_retention, 3 * 86400.0);
  EXPECT_EQ(c.state_db, "/tmp/x.sqlite");
  const auto* h = c.host("web01");
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(h->watch);
  EXPECT_TRUE(h->dyn);
  EXPECT_EQ(h->threshold_config, (std::vector<std::string>{"tight", "db"}));
  EXPECT_EQ(h->managers, (std::vector<std::string>{"bob"}));
  EXPECT_TRUE(c.user("alice")->admin);
  EXPECT_EQ(c.effective_default_owner(), "alice");
}

TEST(server_config, errors_name_their_key_path_and_unknown_keys_warn) {
  hc::diagnostics d;
  load(R"(
hb_port: 99999
interval: 0
hosts:
  web01: {key: short, watch: maybe}
  "bad host": {}
users:
  bob: {password: hunter2}
default_owner: carol
journal_file: a/b
frobnicate: 1
)",
       d);
  EXPECT_TRUE(d.has_errors());
  EXPECT_TRUE(has(d, "hb_port: must be between 0 and 65535"));
  EXPECT_TRUE(has(d, "interval: must be more than 0 seconds"));
  EXPECT_TRUE(has(d, "hosts.web01.key: must be at least 16 bytes"));
  EXPECT_TRUE(has(d, "hosts.web01.watch: must be true or false"));
  EXPECT_TRUE(has(d, "hosts.bad host: not a valid host name"));
  EXPECT_TRUE(has(d, "users.bob.password: must be a hash"));
  EXPECT_TRUE(has(d, "default_owner: names no user"));
  EXPECT_TRUE(has(d, "journal_file: must be a file name"));
  bool warned = false;
  for (const auto& i : d.items) warned = warned || (!i.is_error && i.path == "frobnicate");
  EXPECT_TRUE(warned);
}

// Relative paths name places beside the config file, whatever the working directory.
TEST(server_config, relative_paths_resolve_against_the_files_folder) {
  std::string dir = ::testing::TempDir() + "hb_paths_test";
  std::filesystem::create_directories(dir);
  std::string file = dir + "/hb.yaml";
  std::ofstream(file) << "state_db: data/hbd.sqlite\njournal_dir: ./journal\ncert_path: ssl/\n"
                         "templates_dir: ../web\nlogfile: hbd.log\nnsupdate_key: /etc/bind/k.key\n";
  hc::diagnostics d;
  auto c = hs::load_config_file(file, d);
  EXPECT_FALSE(d.has_errors());
  EXPECT_EQ(c.state_db, dir + "/data/hbd.sqlite");
  EXPECT_EQ(c.journal_dir, dir + "/journal");
  EXPECT_EQ(c.cert_path, dir + "/ssl/");
  EXPECT_EQ(c.templates_dir, std::filesystem::path(dir).parent_path().string() + "/web");
  EXPECT_EQ(c.logfile, dir + "/hbd.log");
  EXPECT_EQ(c.nsupdate_key, "/etc/bind/k.key");
}

// Admission keys, `dyn` without a key.
TEST(server_config, admission_keys_and_dyn_needs_a_key) {
  hc::diagnostics d;
  auto c = load(
      "accept_hosts: configured\nmax_hosts: 10\nmax_new_hosts_per_minute: 5\n"
      "max_plugins_per_host: 3\nhosts:\n  web01: {dyn: true}\n",
      d);
  EXPECT_EQ(c.admission.accept_hosts, heartbeat::server::accept_mode::configured);
  EXPECT_EQ(c.admission.max_hosts, 10u);
  EXPECT_EQ(c.admission.max_new_hosts_per_minute, 5);
  EXPECT_EQ(c.admission.max_plugins_per_host, 3u);
  EXPECT_TRUE(has(d, "hosts.web01.dyn: needs hosts.web01.key"));
}

// YAML nested too deep, or an alias inside its own anchor, is an error, not a crash.
TEST(server_config, yaml_nesting_is_bounded) {
  EXPECT_FALSE(hc::parse_yaml(std::string(100, '[') + std::string(100, ']')));
  auto self = hc::parse_yaml("a: &x [1, *x]\n");  // yaml-cpp builds a cycle: refused, not recursed into
  ASSERT_FALSE(self);
  EXPECT_NE(self.err().message.find("alias inside its own anchor"), std::string::npos) << self.err().message;
  EXPECT_TRUE(hc::parse_yaml(std::string(30, '[') + std::string(30, ']')));
}
