// hbd's remote write part: other parts' samples are checked before they are handed over, the spool
// lives below the state directory, and stopping a sender that cannot reach its target leaves every
// sample in the spool for the next start.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "heartbeat/config/yaml.hpp"
#include "heartbeat/hbd/config.hpp"
#include "heartbeat/hbd/core.hpp"
#include "heartbeat/hbd/remote_write.hpp"
#include "heartbeat/remote_write/spool.hpp"

#include "../temp_dir.hpp"
#include "../wait_for.hpp"

using namespace heartbeat;

namespace {

// A loopback TCP port nothing listens on (bound, then closed).
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

hbd::config make_config(const std::string& dir, const std::string& remote_write) {
  auto tree = config::parse_yaml("state_db: " + dir + "/state/hbd.sqlite\n" + remote_write);
  EXPECT_TRUE(tree.ok());
  config::diagnostics d;
  hbd::config c = hbd::load_config(*tree, d);
  EXPECT_FALSE(d.has_errors());
  return c;
}

TEST(RemoteWriting, SamplesOfOtherPartsAreChecked) {
  hbtest::temp_dir t;
  hbd::core core(make_config(t.path.string(), ""));
  hbd::remote_writing rw(core);
  ASSERT_TRUE(rw.start().ok());
  EXPECT_FALSE(rw.active());
  std::vector<remote_write::label> ok = {{"check", "http"}};
  EXPECT_TRUE(rw.add_sample("heartbeat_check_status", ok, 1700000000, 0).ok());  // no target: nothing to do
  EXPECT_EQ(rw.add_sample("0bad", ok, 1, 0).err().code, "bad_series");
  EXPECT_EQ(rw.add_sample("bad-name", ok, 1, 0).err().code, "bad_series");
  std::vector<remote_write::label> reserved = {{"__name__", "x"}};
  EXPECT_EQ(rw.add_sample("heartbeat_check_status", reserved, 1, 0).err().code, "bad_series");
  EXPECT_EQ(rw.add_sample("heartbeat_check_status", ok, NAN, 0).err().code, "bad_series");
  rw.stop();
}

TEST(RemoteWriting, StopSpoolsWhatTheTargetDidNotTake) {
  hbtest::temp_dir t;
  std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/api/v1/write";
  hbd::core core(make_config(
      t.path.string(), "remote_write:\n  - name: down\n    url: " + url + "\n    flush_interval: 3600\n"));
  hbd::remote_writing rw(core);
  ASSERT_TRUE(rw.start().ok());
  ASSERT_TRUE(rw.active());
  ASSERT_EQ(rw.senders().size(), 1u);
  std::vector<remote_write::label> l = {{"check", "http"}, {"host", "web01"}};
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(rw.add_sample("heartbeat_check_status", l, 1700000000 + i, i).ok());
  const auto& q = rw.senders()[0]->queue();
  ASSERT_TRUE(hbtest::wait_for([&] { return q.depth() == 0; })) << "the sender took the records";
  rw.stop();  // the open batch (flush_interval is an hour away) goes to the spool

  std::string dir = t.path.string() + "/state/remote_write/down";  // below the state directory
  remote_write::spool s(dir, 1 << 20);
  ASSERT_TRUE(s.open().ok());
  EXPECT_EQ(s.samples(), 10u);
}

}  // namespace

// Several nodes on PostgreSQL: every node writes every sample, each with `replica="<node>"` so
// that the receiver can deduplicate; a target's own `replica` is kept; one node (SQLite) writes
// the external labels as configured.
TEST(RemoteWriting, EveryNodeOfAClusterWritesWithItsReplicaLabel) {
  const std::string targets =
      "remote_write:\n"
      "  - {name: vm, url: 'http://127.0.0.1:1/api/v1/write', external_labels: {site: fra1, zone: b}}\n"
      "  - {name: mimir, url: 'http://127.0.0.1:1/api/v1/push', external_labels: {replica: all}}\n"
      "  - {name: plain, url: 'http://127.0.0.1:1/api/v1/write'}\n";
  using labels = std::vector<std::pair<std::string, std::string>>;

  auto cluster = config::parse_yaml(
      "store: postgresql://hb@db.example.org/heartbeat\ncluster: {node: mon2}\n" + targets);
  ASSERT_TRUE(cluster.ok());
  auto t = hbd::remote_writing::targets_of(*cluster);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].external_labels, (labels{{"replica", "mon2"}, {"site", "fra1"}, {"zone", "b"}}));
  EXPECT_EQ(t[1].external_labels, (labels{{"replica", "all"}}));
  EXPECT_EQ(t[2].external_labels, (labels{{"replica", "mon2"}}));

  auto single = config::parse_yaml(targets);
  ASSERT_TRUE(single.ok());
  t = hbd::remote_writing::targets_of(*single);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].external_labels, (labels{{"site", "fra1"}, {"zone", "b"}}));
  EXPECT_TRUE(t[2].external_labels.empty());
}
