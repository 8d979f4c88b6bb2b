// hbc_mini's plugin set from hbc's config keys: defaults, options, errors with key paths.
#include "heartbeat/mini/plugins.hpp"

#include <gtest/gtest.h>

namespace {

using namespace heartbeat;

client::client_config config_from(const char* text, config::diagnostics& d) {
  auto v = json::parse(text);
  EXPECT_TRUE(v.ok());
  return client::load_client_config(*v, d);
}

TEST(MiniPlugins, DefaultsAreOsInfoAndTheFourProcMonitors) {
  config::diagnostics d;
  auto cfg = config_from(R"({"name":"h"})", d);
  auto ps = mini::build_plugins(cfg, d);
  std::vector<std::string> names;
  for (const auto& p : ps) names.push_back(p->name);
  EXPECT_EQ(names, (std::vector<std::string>{"os_info", "cpu_monitor", "memory_monitor", "disk_monitor",
                                             "network_monitor"}));
  EXPECT_TRUE(ps[0]->info);
  EXPECT_EQ(ps[1]->interval, 300);
  EXPECT_FALSE(d.has_errors());
}

TEST(MiniPlugins, OptionsAndInstances) {
  config::diagnostics d;
  auto cfg = config_from(R"({"name":"h","default_plugins":false,"plugins":{
      "ping_monitor":{"interval":"1m","hosts":["127.0.0.1","::1"],"count":2},
      "checks":{"type":"nagios_runner","timeout":5,"commands":[
         {"name":"check_load","command":"/usr/lib/nagios/plugins/check_load -w 5,4,3 -c 10,8,6"},
         {"name":"quoted","command":["/bin/echo","a b"],"timeout":2}]},
      "filesystem_info":{},
      "cpu_monitor":{"enabled":false}}})",
                         d);
  auto ps = mini::build_plugins(cfg, d);
  ASSERT_EQ(ps.size(), 2u);  // in config order; the disabled cpu_monitor is left out
  EXPECT_EQ(ps[1]->name, "checks");
  EXPECT_EQ(ps[1]->type, mini::plugin_type::nagios);
  ASSERT_EQ(ps[1]->checks.size(), 2u);
  EXPECT_EQ(ps[1]->checks[0].argv.size(), 5u);
  EXPECT_EQ(ps[1]->checks[0].timeout, 5);
  EXPECT_EQ(ps[1]->checks[1].timeout, 2);
  EXPECT_EQ(ps[0]->type, mini::plugin_type::ping);
  EXPECT_EQ(ps[0]->interval, 60);
  EXPECT_EQ(ps[0]->hosts.size(), 2u);
  EXPECT_EQ(ps[0]->count, 2u);
  EXPECT_FALSE(d.has_errors());
  bool warned = false;
  for (const auto& i : d.items) warned |= !i.is_error && i.path == "plugins.filesystem_info";
  EXPECT_TRUE(warned);
}

TEST(MiniPlugins, ErrorsNameTheKeyPath) {
  config::diagnostics d;
  auto cfg = config_from(R"({"name":"h","plugins":{"ping_monitor":{},"bogus":{},
      "nagios_runner":{"commands":[{"name":"bad name","command":"x"}]},"memory_monitor":{"interval":0}}})",
                         d);
  (void)mini::build_plugins(cfg, d);
  std::vector<std::string> errors;
  for (const auto& i : d.items)
    if (i.is_error) errors.push_back(i.text());
  auto has = [&](const std::string& prefix) {
    for (const auto& e : errors)
      if (e.rfind(prefix, 0) == 0) return true;
    return false;
  };
  EXPECT_TRUE(has("plugins.ping_monitor.hosts: is required"));
  EXPECT_TRUE(has("plugins.bogus: unknown plugin type \"bogus\""));
  EXPECT_TRUE(has("plugins.nagios_runner.commands.0.name: is required"));
  EXPECT_TRUE(has("plugins.memory_monitor.interval: must be at least 1 second"));
}

TEST(MiniPlugins, ProcReadersCollectAtOnce) {
  config::diagnostics d;
  auto cfg = config_from(R"({"name":"h"})", d);
  auto ps = mini::build_plugins(cfg, d);
  mini::child_set children;
  int got = 0;
  for (auto& p : ps) {
    if (p->type == mini::plugin_type::disk) continue;  // df runs through the poll loop
    mini::prime(*p);
    mini::collect(*p, children, [&](mini::plugin& pl, result<json::value> r) {
      ASSERT_TRUE(r.ok()) << pl.name << ": " << r.err().message;
      EXPECT_TRUE(r->is_object());
      ++got;
    });
  }
  EXPECT_EQ(got, 4);
  EXPECT_TRUE(children.empty());
}

}  // namespace
