// From the io thread's hand-over to WriteRequests: the series and labels /metrics shows, the
// external labels merged and sorted, batches of max_samples_per_send, each series in timestamp
// order (older, equal and duplicate samples dropped and counted), a host's previous state ended
// with a staleness marker, and a full queue refusing without waiting.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "heartbeat/remote_write/batcher.hpp"
#include "heartbeat/remote_write/handover.hpp"
#include "remote_write.pb.h"

using namespace heartbeat;
using namespace heartbeat::remote_write;

namespace {

struct sample_seen {
  std::map<std::string, std::string> labels;
  std::vector<std::string> order;  // label names as sent
  double value;
  std::int64_t ts;
};

struct harness {
  target_config cfg;
  handover_queue q{1 << 16};
  feed f;
  std::vector<batch> out;
  std::unique_ptr<batcher> b;

  explicit harness(std::size_t max = 2000, std::vector<std::pair<std::string, std::string>> ext = {}) {
    cfg.max_samples_per_send = max;
    cfg.external_labels = std::move(ext);
    b = std::make_unique<batcher>(cfg, [this](batch&& x) { out.push_back(std::move(x)); });
    f.attach(&q);
  }
  // Drains the queue like the sender and seals the open batch.
  std::vector<sample_seen> run() {
    std::span<const std::byte> rec;
    while (q.ring.front(rec)) {
      b->add(rec, 0);
      q.ring.pop();
    }
    b->seal();
    std::vector<sample_seen> all;
    for (const auto& x : out) {
      std::string raw;
      EXPECT_TRUE(snappy_uncompress(x.payload, raw));
      prometheus::WriteRequest req;
      EXPECT_TRUE(req.ParseFromString(raw));
      EXPECT_EQ(static_cast<std::uint32_t>(req.timeseries_size()), x.samples);
      for (const auto& ts : req.timeseries()) {
        sample_seen s;
        for (const auto& l : ts.labels()) {
          s.labels[l.name()] = l.value();
          s.order.push_back(l.name());
        }
        s.value = ts.samples(0).value();
        s.ts = ts.samples(0).timestamp();
        all.push_back(std::move(s));
      }
    }
    out.clear();
    return all;
  }
};

std::vector<sample_seen> named(const std::vector<sample_seen>& v, const std::string& name) {
  std::vector<sample_seen> out;
  for (const auto& s : v)
    if (s.labels.at("__name__") == name) out.push_back(s);
  return out;
}

TEST(RemoteWriteBatcher, PluginLeavesBecomeTheMetricsSeries) {
  harness h(2000, {{"dc", "eu"}, {"host", "ignored"}, {"site", "fra1"}});
  h.f.plugin("web01", "disk", 1700000000.5, R"({"partitions":{"/":{"percent":40.5}},"ok":true,"tags":[1]})");
  auto all = h.run();
  ASSERT_EQ(all.size(), 2u);
  const auto& s = all[1];  // sorted by metric: "ok" < "partitions./.percent"
  EXPECT_EQ(s.labels.at("__name__"), "heartbeat_plugin_value");
  EXPECT_EQ(s.labels.at("host"), "web01");  // the series' own label wins over an external one
  EXPECT_EQ(s.labels.at("plugin"), "disk");
  EXPECT_EQ(s.labels.at("metric"), "partitions./.percent");
  EXPECT_EQ(s.labels.at("site"), "fra1");
  EXPECT_EQ(s.labels.at("dc"), "eu");
  EXPECT_EQ(s.value, 40.5);
  EXPECT_EQ(s.ts, 1700000000500);
  std::vector<std::string> order = {"__name__", "dc", "host", "metric", "plugin", "site"};
  EXPECT_EQ(s.order, order);
  EXPECT_EQ(all[0].labels.at("metric"), "ok");
  EXPECT_EQ(all[0].value, 1);
}

TEST(RemoteWriteBatcher, EachSeriesInTimestampOrder) {
  harness h;
  h.f.plugin("a", "cpu", 100, R"({"x":1})");
  h.f.plugin("a", "cpu", 99, R"({"x":2})");         // older: dropped
  h.f.plugin("a", "cpu", 100, R"({"x":3})");        // same timestamp: dropped
  h.f.plugin("a", "mem", 99, R"({"x":4})");         // another source
  h.f.plugin("a", "cpu", 101, R"({"x":5,"x":6})");  // a duplicate key: the first value
  auto all = h.run();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].value, 1);
  EXPECT_EQ(all[1].labels.at("plugin"), "mem");
  EXPECT_EQ(all[2].value, 5);
  EXPECT_EQ(all[2].ts, 101000);
  EXPECT_EQ(h.b->out_of_order(), 3u);
}

TEST(RemoteWriteBatcher, HostRecordsAndTheStaleMarker) {
  harness h;
  server::host host;
  host.name = "web01";
  host.state = server::host_state::up;
  host.clock_skew = 0.25;
  host.conns[0].received = 3;
  host.conns[0].lost = 1;
  conn_status c{static_cast<std::uint8_t>(server::address_family::ipv4),
                static_cast<std::uint8_t>(server::host_state::up), true, 2.5};
  h.f.host(host, 10, true, {&c, 1});
  host.state = server::host_state::down;
  c.state = static_cast<std::uint8_t>(server::host_state::down);
  c.has_rtt = false;
  h.f.host(host, 20, true, {&c, 1});
  auto all = h.run();
  auto up = named(all, "heartbeat_host_up");
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0].value, 1);
  EXPECT_EQ(up[1].value, 0);
  EXPECT_EQ(up[1].ts, 20000);
  auto loss = named(all, "heartbeat_host_loss_ratio");
  ASSERT_EQ(loss.size(), 2u);
  EXPECT_EQ(loss[0].value, 0.25);
  EXPECT_EQ(named(all, "heartbeat_host_clock_skew_seconds")[0].value, 0.25);
  auto rtt = named(all, "heartbeat_connection_rtt_seconds");
  ASSERT_EQ(rtt.size(), 1u);
  EXPECT_EQ(rtt[0].value, 0.0025);
  EXPECT_EQ(rtt[0].labels.at("family"), "ipv4");
  auto cup = named(all, "heartbeat_connection_up");
  ASSERT_EQ(cup.size(), 2u);
  EXPECT_EQ(cup[1].value, 0);
  auto state = named(all, "heartbeat_host_state");
  ASSERT_EQ(state.size(), 3u);  // UP 1 at 10; at 20: UP ends (stale marker), DOWN 1
  EXPECT_EQ(state[0].labels.at("state"), "UP");
  EXPECT_EQ(state[1].labels.at("state"), "UP");
  EXPECT_EQ(state[1].ts, 20000);
  std::uint64_t bits;
  std::memcpy(&bits, &state[1].value, 8);
  EXPECT_EQ(bits, 0x7ff0000000000002ull);
  EXPECT_EQ(state[2].labels.at("state"), "DOWN");
  EXPECT_EQ(state[2].value, 1);
}

TEST(RemoteWriteBatcher, AlertsAndOtherSeries) {
  harness h(2000, {{"site", "fra1"}});
  h.f.alert("web01", "cpu.busy", 2, 50);
  std::vector<label> l = {{"zone", "b"}, {"check", "http"}, {"empty", ""}};
  h.f.sample("heartbeat_check_status", l, 60, 0);
  h.f.sample("heartbeat_check_status", l, 60, 1);  // same series, same time: dropped
  auto all = h.run();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].labels.at("__name__"), "heartbeat_alert_level");
  EXPECT_EQ(all[0].labels.at("metric_path"), "cpu.busy");
  EXPECT_EQ(all[0].value, 2);
  std::vector<std::string> order = {"__name__", "check", "site", "zone"};  // the empty label is left out
  EXPECT_EQ(all[1].order, order);
  EXPECT_EQ(h.b->out_of_order(), 1u);
}

TEST(RemoteWriteBatcher, ChangesWithinOneMillisecondKeepTheirOrder) {
  harness h;
  h.f.alert("web01", "cpu.busy", 2, 50);
  h.f.alert("web01", "cpu.busy", 0, 50);      // the engine moved twice at once: the last level stays
  h.f.alert("web01", "cpu.busy", 1, 50.001);  // later, but within the crowded millisecond
  h.f.alert("web01", "cpu.busy", 3, 49);      // the clock went back: dropped
  auto all = h.run();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].ts, 50000);
  EXPECT_EQ(all[1].ts, 50001);
  EXPECT_EQ(all[1].value, 0);
  EXPECT_EQ(all[2].ts, 50002);
  EXPECT_EQ(all[2].value, 1);
  EXPECT_EQ(h.b->out_of_order(), 1u);
}

TEST(RemoteWriteBatcher, BatchesOfMaxSamples) {
  harness h(3);
  h.f.plugin("a", "p", 1, R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7})");
  std::span<const std::byte> rec;
  ASSERT_TRUE(h.q.ring.front(rec));
  h.b->add(rec, 0);
  h.q.ring.pop();
  ASSERT_EQ(h.out.size(), 2u);  // two full batches sealed; one sample waits
  EXPECT_EQ(h.out[0].samples, 3u);
  EXPECT_EQ(h.b->pending(), 1u);
  EXPECT_FALSE(h.b->due(4, 5));
  EXPECT_TRUE(h.b->due(5, 5));
  EXPECT_EQ(h.run().size(), 7u);
}

TEST(RemoteWriteBatcher, AFullQueueRefusesWithoutWaiting) {
  handover_queue q(4096);
  feed f;
  f.attach(&q);
  std::string big(1500, 'x');
  for (int i = 0; i < 10; ++i) f.plugin("a", "p", i, big);
  EXPECT_GT(q.dropped, 0u);
  EXPECT_EQ(q.pushed + q.dropped, 10u);
  EXPECT_EQ(q.depth(), q.pushed);
}

}  // namespace
