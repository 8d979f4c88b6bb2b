// The `remote_write` section: defaults, every key read, and each mistake reported with its key path
// (hbd check-config shows them and exits 2).
#include <gtest/gtest.h>

#include <string>

#include "heartbeat/config/yaml.hpp"
#include "heartbeat/hbd/config.hpp"
#include "heartbeat/remote_write/config.hpp"

using namespace heartbeat;

namespace {

json::value yaml(const std::string& text) {
  auto v = config::parse_yaml(text);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.err().message);
  return v.ok() ? *v : json::value();
}

std::string errors(const config::diagnostics& d) {
  std::string out;
  for (const auto& x : d.items)
    if (x.is_error) out += x.text() + "\n";
  return out;
}

TEST(RemoteWriteConfig, EveryKeyAndTheDefaults) {
  config::diagnostics d;
  auto t = remote_write::load_config(yaml(R"(
remote_write:
  - name: vm
    url: http://127.0.0.1:8428/api/v1/write
    headers: {X-Scope-OrgID: ops}
    basic_auth: {username: u, password: p}
    external_labels: {site: fra1, dc: eu}
    flush_interval: 2
    max_samples_per_send: 500
    spool_dir: /var/spool/hb
    spool_max_bytes: 1048576
  - name: prom
    url: https://prom.example/api/v1/write
    bearer_token: secret
)"),
                                     d);
  EXPECT_EQ(errors(d), "");
  EXPECT_TRUE(d.items.empty());
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].name, "vm");
  EXPECT_EQ(t[0].headers.size(), 1u);
  EXPECT_EQ(t[0].username, "u");
  EXPECT_EQ(t[0].password, "p");
  ASSERT_EQ(t[0].external_labels.size(), 2u);
  EXPECT_EQ(t[0].external_labels[0].first, "dc");  // sorted by name
  EXPECT_EQ(t[0].flush_interval, 2);
  EXPECT_EQ(t[0].max_samples_per_send, 500u);
  EXPECT_EQ(t[0].spool_dir, "/var/spool/hb");
  EXPECT_EQ(t[0].spool_max_bytes, 1048576u);
  EXPECT_EQ(t[1].bearer_token, "secret");
  EXPECT_EQ(t[1].flush_interval, 5);
  EXPECT_EQ(t[1].max_samples_per_send, 2000u);
  EXPECT_EQ(t[1].spool_dir, "remote_write/prom");
  EXPECT_EQ(t[1].spool_max_bytes, 1073741824u);
}

TEST(RemoteWriteConfig, MistakesNameTheirKeyPath) {
  config::diagnostics d;
  (void)remote_write::load_config(yaml(R"(
remote_write:
  - name: "bad name"
    url: ftp://x
    headers: {Content-Encoding: gzip, "Bad Header": x}
    basic_auth: {password: p}
    external_labels: {__x: y, "0a": b, ok: ""}
    flush_interval: 0
    max_samples_per_send: 0
    spool_max_bytes: 10
    nonsense: 1
  - url: http://a/
  - name: a
    url: http://a/
    basic_auth: {username: u}
    bearer_token: t
  - name: a
    url: http://b/
)"),
                                  d);
  std::string e = errors(d);
  for (const char* want : {
           "remote_write.0.name: must be 1 to 64 letters",
           "remote_write.0.url: must be an http:// or https:// URL",
           "remote_write.0.headers.Content-Encoding: is set by hbd",
           "remote_write.0.headers.Bad Header: is not a valid HTTP header name",
           "remote_write.0.basic_auth.username: is required",
           "remote_write.0.external_labels.__x: is not a valid label name",
           "remote_write.0.external_labels.0a: is not a valid label name",
           "remote_write.0.external_labels.ok: must not be empty",
           "remote_write.0.flush_interval: must be more than 0",
           "remote_write.0.max_samples_per_send: must be between 1 and",
           "remote_write.0.spool_max_bytes: must be between 65536 and",
           "remote_write.1.name: is required",
           "remote_write.2.bearer_token: cannot be combined with basic_auth",
           "remote_write.3.name: \"a\" is used twice",
       })
    EXPECT_NE(e.find(want), std::string::npos) << want << "\nin:\n" << e;
  bool warned = false;
  for (const auto& x : d.items) warned = warned || (!x.is_error && x.path == "remote_write.0.nonsense");
  EXPECT_TRUE(warned);
}

TEST(RemoteWriteConfig, NotAListAndTheWholeConfig) {
  config::diagnostics d;
  (void)remote_write::load_config(yaml("remote_write: {name: vm}"), d);
  EXPECT_NE(errors(d).find("remote_write: must be a list of targets"), std::string::npos);

  // hbd's loader knows the key (no "unknown key" warning) and reports the section's errors.
  config::diagnostics all;
  (void)hbd::load_config(yaml("remote_write:\n  - name: vm\n"), all);
  EXPECT_NE(errors(all).find("remote_write.0.url: is required"), std::string::npos) << errors(all);
  for (const auto& x : all.items) EXPECT_NE(x.path, "remote_write") << x.text();
}

}  // namespace
