// Specification of what several hbd nodes need without a database: the `store` and
// `cluster` keys with their key-path diagnostics (libpq's own parser checks the
// connection string), the connection string as logs show it (no password), the
// array literals of batched writes, and command ids that name their node.
#include "heartbeat/server/cluster_config.hpp"

#include <gtest/gtest.h>

#include "heartbeat/config/yaml.hpp"
#include "heartbeat/server/commands.hpp"
#include "heartbeat/server/detail/pg.hpp"

using namespace heartbeat;

namespace {
struct loaded {
  server::cluster_settings s;
  config::diagnostics d;
};
loaded load(const std::string& yaml) {
  loaded out;
  out.s = server::read_cluster_settings(*config::parse_yaml(yaml), out.d);
  return out;
}
bool has(const config::diagnostics& d, const std::string& path, bool error = true) {
  for (const auto& i : d.items)
    if (i.path == path && i.is_error == error) return true;
  return false;
}
}  // namespace

TEST(ClusterConfig, WithoutStoreItIsOneNodeOnSqlite) {
  auto l = load("interval: 30\n");
  EXPECT_FALSE(l.s.postgres());
  EXPECT_EQ(l.s.lease, 10);
  EXPECT_FALSE(l.s.node.empty()) << "the host name";
  EXPECT_TRUE(l.d.items.empty());
}

TEST(ClusterConfig, AcceptsUrisAndKeyValueStrings) {
  auto l = load("store: postgresql://hb:pw@db.example.org:5433/heartbeat\ncluster: {node: mon1, lease: 5}\n");
  EXPECT_TRUE(l.d.items.empty());
  EXPECT_TRUE(l.s.postgres());
  EXPECT_EQ(l.s.node, "mon1");
  EXPECT_EQ(l.s.lease, 5);
  auto kv = load("store: 'host=127.0.0.1 port=5432 dbname=hb user=hb'\ncluster: {lease: 30s}\n");
  EXPECT_TRUE(kv.d.items.empty());
  EXPECT_EQ(kv.s.lease, 30);
}

TEST(ClusterConfig, ReportsEveryProblemWithItsKeyPath) {
  EXPECT_TRUE(has(load("store: 'postgresql://h/db?no_such_option=1'\n").d, "store"));
  EXPECT_TRUE(has(load("store: 'host=h bogus=1'\n").d, "store"));
  EXPECT_TRUE(has(load("store: /var/lib/hbd.sqlite\n").d, "store"));
  EXPECT_TRUE(has(load("store: [1]\n").d, "store"));
  auto l = load("store: postgresql://h/db\ncluster: {node: 'no spaces', lease: 0, extra: 1}\n");
  EXPECT_TRUE(has(l.d, "cluster.node"));
  EXPECT_TRUE(has(l.d, "cluster.lease"));
  EXPECT_TRUE(has(l.d, "cluster.extra", false)) << "unknown keys warn";
  EXPECT_TRUE(has(load("cluster: {node: a}\n").d, "cluster", false)) << "cluster without store warns";
  EXPECT_TRUE(has(load("cluster: 3\n").d, "cluster"));
}

TEST(ClusterConfig, LogsShowTheServerButNotThePassword) {
  std::string d = server::detail::describe_conninfo("postgresql://hb:s3cret@db.example.org:5433/heartbeat");
  EXPECT_EQ(d, "postgresql://hb@db.example.org:5433/heartbeat");
  EXPECT_EQ(d.find("s3cret"), std::string::npos);
  EXPECT_EQ(server::detail::describe_conninfo("host=10.0.0.1 dbname=hb password=x"),
            "postgresql://10.0.0.1/hb");
}

TEST(ClusterConfig, ArrayLiteralsEscapeQuotesAndBackslashes) {
  server::detail::pg_array a;
  a.add(std::string_view("plain"));
  a.add(std::string_view(R"({"k":"a\"b\\c"})"));
  a.add(std::string_view("nul\0byte", 8));
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.take(), R"({"plain","{\"k\":\"a\\\"b\\\\c\"}","nulbyte"})");
  a.add(1.5);
  a.add(1700000000.25);
  EXPECT_EQ(a.take(), "{1.5,1700000000.25}");
  EXPECT_EQ(a.take(), "{}");
}

TEST(ClusterConfig, CommandIdsNameTheirNodeAndStayUnique) {
  server::command_ids ids;
  ids.note("c-7");
  ids.note("c-12-mon2");  // another node's id counts too
  ids.note("c-x");
  EXPECT_EQ(ids.next(), "c-13");
  ids.set_node("mon1");
  EXPECT_EQ(ids.next(), "c-14-mon1");
  ids.note("c-20-mon1");
  EXPECT_EQ(ids.next(), "c-21-mon1");
}
