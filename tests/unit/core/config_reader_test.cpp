// Specification of config/reader.hpp and config/yaml.hpp: typed reads, key paths.
#include "heartbeat/config/reader.hpp"
#include "heartbeat/config/yaml.hpp"

#include <gtest/gtest.h>

using namespace heartbeat;

TEST(ConfigReader, NamesTheKeyPathOfEveryError) {
  auto tree = config::parse_yaml("hb_port: high\nhosts:\n  web01:\n    watch: 3\n    bogus: 1\n");
  ASSERT_TRUE(tree);
  config::diagnostics d;
  config::object_reader top(*tree, "", d);
  int port = 50003;
  top.get("hb_port", port, 1, 65535);
  auto hosts = top.child("hosts");
  auto web = hosts.child("web01");
  bool watch = true;
  web.get("watch", watch);
  web.finish();
  ASSERT_EQ(d.items.size(), 3u);
  EXPECT_EQ(d.items[0].text(), "hb_port: must be a whole number, not string");
  EXPECT_EQ(d.items[1].text(), "hosts.web01.watch: must be true or false, not number");
  EXPECT_FALSE(d.items[2].is_error);
  EXPECT_EQ(d.items[2].path, "hosts.web01.bogus");
  EXPECT_EQ(port, 50003);
}

TEST(ConfigReader, YamlScalarsAndDurations) {
  auto tree = config::parse_yaml("a: '42'\nb: 42\nc: yes\nd: 7d\ne: ~\n");
  ASSERT_TRUE(tree);
  EXPECT_TRUE(tree->find("a")->is_string());
  EXPECT_TRUE(tree->find("b")->is_number());
  EXPECT_TRUE(tree->find("e")->is_null());
  EXPECT_EQ(config::parse_duration(*tree->find("d")).value(), 7 * 86400);
  auto bad = config::parse_yaml("a: [1, 2\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.err().message.find("line"), std::string::npos);
}
