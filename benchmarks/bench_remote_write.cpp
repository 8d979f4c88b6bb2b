// Remote write's CPU per sample, on one core: the io thread's hand-over (a PLG of 15 numeric
// leaves, an HTB's host record), the sender's encoding and snappy compression of the series /metrics
// shows, the sender's whole path from hand-over records to compressed WriteRequests (JSON flattening,
// order checks, labels, encoding, compression), and libprotobuf's generated code doing the same
// encoding (the baseline behind the hand-written encoder, docs/ARCHITECTURE.md). Counters are per
// sample: items_per_second is samples per CPU second.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "heartbeat/remote_write/batcher.hpp"
#include "heartbeat/remote_write/handover.hpp"
#include "heartbeat/remote_write/wire.hpp"
#include "remote_write.pb.h"

using namespace heartbeat;
using namespace heartbeat::remote_write;

namespace {

constexpr int hosts = 1000, plugins = 9, leaves = 15, batch_samples = 2000;

std::string host_name(int h) {
  char b[64];
  std::snprintf(b, sizeof b, "web-%05d.fra1.example.com", h);
  return b;
}

// A monitor plugin's data with 15 numeric leaves (and a string, as real plugins send).
std::string plugin_data(int h, int p, int round) {
  char b[1024];
  std::snprintf(
      b, sizeof b,
      "{\"cpu_percent\":%.1f,\"load\":{\"1\":%.2f,\"5\":%.2f,\"15\":%.2f},\"mem\":{\"percent\":%.1f,"
      "\"available_mb\":%d,\"swap_percent\":%.1f},\"disk\":{\"/\":{\"percent\":%.1f,\"free_gb\":%.1f},"
      "\"/var\":{\"percent\":%.1f,\"free_gb\":%.1f}},\"net\":{\"rx_bps\":%d,\"tx_bps\":%d},"
      "\"procs\":%d,\"uptime\":%d,\"kernel\":\"6.1.0-%d\"}",
      (h * 7 + round) % 100 / 1.0, (h % 400) / 100.0, (h % 300) / 100.0, (h % 200) / 100.0,
      (h * 3 + p) % 100 / 1.0, 1000 + h % 5000, (h % 50) / 1.0, (h + round) % 100 / 1.0, 10.5 + h % 90,
      (h * 5) % 100 / 1.0, 3.25 + p, 1000 * (h % 977), 700 * (h % 881), 100 + h % 300, 86400 + round, p);
  return b;
}

struct series {
  std::string host, metric;
};

std::vector<series> all_series() {
  const char* metrics[leaves] = {
      "cpu_percent",       "load.1",           "load.5",         "load.15",        "mem.percent",
      "mem.available_mb",  "mem.swap_percent", "disk./.percent", "disk./.free_gb", "disk./var.percent",
      "disk./var.free_gb", "net.rx_bps",       "net.tx_bps",     "procs",          "uptime"};
  std::vector<series> v;
  for (int h = 0; h < hosts; ++h)
    for (int m = 0; m < leaves; ++m) v.push_back({host_name(h), metrics[m]});
  return v;
}

// Labels + encoding + snappy for batches of 2000 samples of heartbeat_plugin_value, with one external
// label, sorted like the sender sorts them.
void BM_EncodeAndCompress(benchmark::State& state) {
  auto s = all_series();
  write_request w;
  std::string z;
  std::size_t i = 0;
  std::int64_t ts = 1700000000000;
  for (auto _ : state) {
    for (int k = 0; k < batch_samples; ++k) {
      const series& x = s[i++ % s.size()];
      label l[6] = {{"__name__", "heartbeat_plugin_value"},
                    {"host", x.host},
                    {"metric", x.metric},
                    {"plugin", "plugin_3"},
                    {"site", "fra1"}};
      for (int a = 1; a < 5; ++a)  // the sender's insertion sort (already in order: its cheapest case)
        for (int b = a; b > 0 && l[b].name < l[b - 1].name; --b) std::swap(l[b], l[b - 1]);
      w.add({l, 5}, 12.5 + k, ts + k);
    }
    snappy_compress(w.bytes(), z);
    benchmark::DoNotOptimize(z.data());
    state.counters["compressed_bytes_per_sample"] = static_cast<double>(z.size()) / batch_samples;
    state.counters["raw_bytes_per_sample"] = static_cast<double>(w.bytes().size()) / batch_samples;
    w.clear();
  }
  state.SetItemsProcessed(state.iterations() * batch_samples);
}
BENCHMARK(BM_EncodeAndCompress);

// The same WriteRequests built with protoc's code and serialized by libprotobuf (no compression).
void BM_EncodeLibprotobuf(benchmark::State& state) {
  auto s = all_series();
  prometheus::WriteRequest req;
  std::string out;
  std::size_t i = 0;
  for (auto _ : state) {
    req.Clear();
    for (int k = 0; k < batch_samples; ++k) {
      const series& x = s[i++ % s.size()];
      auto* ts = req.add_timeseries();
      const std::pair<const char*, const std::string*> ls[] = {{"__name__", nullptr},
                                                               {"host", &x.host},
                                                               {"metric", &x.metric},
                                                               {"plugin", nullptr},
                                                               {"site", nullptr}};
      const char* fixed[] = {"heartbeat_plugin_value", nullptr, nullptr, "plugin_3", "fra1"};
      for (int a = 0; a < 5; ++a) {
        auto* l = ts->add_labels();
        l->set_name(ls[a].first);
        if (ls[a].second)
          l->set_value(*ls[a].second);
        else
          l->set_value(fixed[a]);
      }
      auto* smp = ts->add_samples();
      smp->set_value(12.5 + k);
      smp->set_timestamp(1700000000000 + k);
    }
    req.SerializeToString(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * batch_samples);
}
BENCHMARK(BM_EncodeLibprotobuf);

// The sender thread's whole path: hand-over records (PLGs of 15 leaves from 1000 hosts x 9 plugins)
// to compressed batches: JSON flattening, per-source order check, labels, encoding, compression.
void BM_SenderPath(benchmark::State& state) {
  target_config t;
  t.external_labels = {{"site", "fra1"}};
  std::size_t sealed = 0;
  batcher b(t, [&](batch&& x) { sealed += x.samples; });
  handover_queue q(std::size_t{64} << 20);
  feed f;
  f.attach(&q);
  std::vector<std::string> names;
  for (int h = 0; h < hosts; ++h) names.push_back(host_name(h));
  int round = 0;
  std::int64_t samples = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int h = 0; h < hosts; ++h)
      for (int p = 0; p < plugins; ++p)
        f.plugin(names[static_cast<std::size_t>(h)], "plugin_" + std::to_string(p), 1700000000.0 + round,
                 plugin_data(h, p, round));
    ++round;
    state.ResumeTiming();
    std::span<const std::byte> rec;
    while (q.ring.front(rec)) {
      b.add(rec, 0);
      q.ring.pop();
    }
    b.seal();
    samples += static_cast<std::int64_t>(hosts) * plugins * leaves;
  }
  state.SetItemsProcessed(samples);
  state.counters["dropped"] = static_cast<double>(b.out_of_order());
}
BENCHMARK(BM_SenderPath)->Unit(benchmark::kMillisecond);

// The io thread's hand-over of a PLG (15 numeric leaves): one record copied into one target's queue.
void BM_HandoverPlugin(benchmark::State& state) {
  handover_queue q(std::size_t{64} << 20);
  feed f;
  f.attach(&q);
  std::vector<std::string> names, data;
  for (int h = 0; h < hosts; ++h) {
    names.push_back(host_name(h));
    data.push_back(plugin_data(h, h % plugins, 0));
  }
  std::size_t i = 0, n = 0;
  for (auto _ : state) {
    f.plugin(names[i], "plugin_3", 1700000000.0 + static_cast<double>(n), data[i]);
    if (++i == names.size()) i = 0;
    if (++n % 4096 == 0) {  // the sender's side, not timed
      state.PauseTiming();
      std::span<const std::byte> rec;
      while (q.ring.front(rec)) q.ring.pop();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * leaves);
  state.counters["queue_dropped"] = static_cast<double>(q.dropped);
}
BENCHMARK(BM_HandoverPlugin);

// The io thread's hand-over after an HTB: the host record (6 samples: up, state, loss, skew, and
// the connection's up and RTT).
void BM_HandoverHeartbeat(benchmark::State& state) {
  handover_queue q(std::size_t{64} << 20);
  feed f;
  f.attach(&q);
  std::vector<server::host> hs(hosts);
  for (int h = 0; h < hosts; ++h) {
    hs[static_cast<std::size_t>(h)].name = host_name(h);
    hs[static_cast<std::size_t>(h)].state = server::host_state::up;
    hs[static_cast<std::size_t>(h)].clock_skew = 0.01;
  }
  conn_status c{0, static_cast<std::uint8_t>(server::host_state::up), true, 0.4};
  std::size_t i = 0, n = 0;
  for (auto _ : state) {
    f.host(hs[i], 1700000000.0 + static_cast<double>(n), true, {&c, 1});
    if (++i == hs.size()) i = 0;
    if (++n % 4096 == 0) {
      state.PauseTiming();
      std::span<const std::byte> rec;
      while (q.ring.front(rec)) q.ring.pop();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * 6);
}
BENCHMARK(BM_HandoverHeartbeat);

}  // namespace

BENCHMARK_MAIN();
