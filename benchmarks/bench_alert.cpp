// Threshold evaluation throughput: metric checks per second on one core, with
// the rule set of docs/ALERTING.md's example including the generic nagios match,
// over realistic PLG leaves from many hosts. A "check" is one numeric leaf looked
// up and evaluated.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "heartbeat/alert/engine.hpp"
#include "heartbeat/config/yaml.hpp"

using namespace heartbeat;

namespace {

const char* config_text = R"(
threshold_renotify_interval: 3600
thresholds:
  rtt:
    "*": {warning: 100, critical: 500}
  cpu_monitor:
    cpu_percent: {warning: 80, critical: 90, hysteresis: 0.02}
    load_1min: {warning: 4, critical: 8}
  memory_monitor:
    percent: {warning: 85, critical: 95}
    swap_percent: {warning: 50, critical: 80}
  disk_monitor:
    partitions:
      /:
        percent: {warning: 80, critical: 90}
        free_gb: {warning: 10, critical: 5, operator: "<"}
      /var:
        percent: {warning: 80, critical: 90}
  nagios_runner:
    status_code: {operator: nagios, display: "{check_name}: {output}"}
)";

protocol::leaf num(std::string p, double v) {
  protocol::leaf l;
  l.path = std::move(p);
  l.type = protocol::leaf::kind::number;
  l.number = v;
  return l;
}
protocol::leaf str(std::string p, std::string v) {
  protocol::leaf l;
  l.path = std::move(p);
  l.type = protocol::leaf::kind::string;
  l.text = std::move(v);
  return l;
}

struct sample {
  std::string plugin;
  std::vector<protocol::leaf> leaves;
  std::size_t numeric = 0;
};

std::vector<sample> samples() {
  std::vector<sample> s;
  s.push_back(
      {"cpu_monitor",
       {num("cpu_percent", 45.2), num("load_1min", 2.5), num("load_5min", 2.1), num("load_15min", 1.8),
        num("cpu_count", 8), num("frequency_mhz", 2400), num("processes", 312), num("uptime", 123456),
        num("user", 30.1), num("system", 10.2), num("iowait", 1.1), num("steal", 0)}});
  s.push_back(
      {"memory_monitor",
       {num("percent", 65.4), num("available_mb", 4096), num("total_mb", 16384), num("used_mb", 10000),
        num("swap_percent", 3), num("swap_total_mb", 2048), num("swap_used_mb", 60), num("arc_mb", 0)}});
  sample disk{"disk_monitor", {}};
  for (const char* p : {"/", "/var", "/home", "/boot"})
    for (const char* f : {"percent", "free_gb", "total_gb", "used_gb", "read_bytes", "write_bytes"})
      disk.leaves.push_back(
          num(std::string("partitions.") + p + "." + f, std::string(f) == "free_gb" ? 50 : 42));
  s.push_back(std::move(disk));
  sample nag{"nagios_runner", {}};
  for (const char* c : {"check_load", "check_disk_root", "check_http_local", "check_ssh", "check_ntp_time"}) {
    nag.leaves.push_back(num(std::string(c) + "_status_code", 0));
    nag.leaves.push_back(str(std::string(c) + "_status", "OK"));
    nag.leaves.push_back(str(std::string(c) + "_output", "OK - all good"));
  }
  s.push_back(std::move(nag));
  s.push_back({"network_monitor",
               {num("eth0.rx_bytes", 1e9), num("eth0.tx_bytes", 2e9), num("eth0.errors_total", 0),
                num("eth0.dropped", 0), num("connections", 120)}});
  for (auto& x : s)
    for (auto& l : x.leaves) x.numeric += l.type == protocol::leaf::kind::number;
  return s;
}

alert::ruleset rules() {
  config::diagnostics d;
  return alert::compile_rules(config::parse_yaml(config_text).value(), d);
}

// Steady state: every host's plugins in their usual leaf order (the common case).
void BM_alert_checks(benchmark::State& st) {
  alert::engine e(rules());
  auto ss = samples();
  const int hosts = static_cast<int>(st.range(0));
  std::vector<std::string> names;
  for (int i = 0; i < hosts; ++i) names.push_back("host-" + std::to_string(i));
  std::vector<alert::transition> out;
  double now = 1e9;
  for (const auto& n : names)
    for (const auto& s : ss) e.evaluate_plugin(n, s.plugin, s.leaves, now, out);
  std::size_t per_round = 0;
  for (const auto& s : ss) per_round += s.numeric;
  std::size_t checks = 0;
  for (auto _ : st) {
    now += 1;
    for (const auto& n : names)
      for (const auto& s : ss) e.evaluate_plugin(n, s.plugin, s.leaves, now, out);
    out.clear();
    checks += per_round * names.size();
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(checks));
}
BENCHMARK(BM_alert_checks)->Arg(1000);

// Leaves in a different order every time: every leaf goes through the hash lookup.
void BM_alert_checks_reordered(benchmark::State& st) {
  alert::engine e(rules());
  auto ss = samples();
  auto rev = ss;
  for (auto& s : rev) std::reverse(s.leaves.begin(), s.leaves.end());
  std::vector<alert::transition> out;
  double now = 1e9;
  std::size_t per_round = 0;
  for (const auto& s : ss) per_round += s.numeric;
  std::size_t checks = 0;
  bool flip = false;
  for (auto _ : st) {
    now += 1;
    flip = !flip;
    for (const auto& s : flip ? rev : ss) e.evaluate_plugin("host-1", s.plugin, s.leaves, now, out);
    out.clear();
    checks += per_round;
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(checks));
}
BENCHMARK(BM_alert_checks_reordered);

// Values crossing thresholds every sample: transitions with texts (the slow path).
void BM_alert_transitions(benchmark::State& st) {
  alert::engine e(rules());
  std::vector<protocol::leaf> leaves{num("cpu_percent", 0)};
  std::vector<alert::transition> out;
  double now = 1e9;
  std::size_t n = 0;
  for (auto _ : st) {
    now += 1;
    leaves[0].number = (n++ & 1) ? 95 : 10;
    e.evaluate_plugin("h", "cpu_monitor", leaves, now, out);
    out.clear();
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_alert_transitions);

// The RTT of one HTB.
void BM_alert_rtt(benchmark::State& st) {
  alert::engine e(rules());
  std::vector<alert::transition> out;
  double now = 1e9;
  for (auto _ : st) {
    now += 1;
    e.evaluate_rtt("host-7", 12.5, now, out);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}
BENCHMARK(BM_alert_rtt);

// tick() over 100 k states (every second in hbd).
void BM_alert_tick_100k(benchmark::State& st) {
  alert::engine e(rules());
  auto ss = samples();
  std::vector<alert::transition> out;
  for (int i = 0; i < 10000; ++i)
    for (const auto& s : ss) e.evaluate_plugin("host-" + std::to_string(i), s.plugin, s.leaves, 1e9, out);
  for (auto _ : st) {
    e.tick(1e9 + 1, out);
    out.clear();
  }
  st.counters["states"] = static_cast<double>(e.state_count());
}
BENCHMARK(BM_alert_tick_100k)->Unit(benchmark::kMicrosecond);

// GET /api/0/alerts with a million hosts' states, 30,000 of them over a rule (1 % of hosts over
// 3 rules, as in benchmarks/run.d/95-fleet.sh at a million): the reply body, written whole.
void BM_alert_write_alerts_30k(benchmark::State& st) {
  alert::engine e(rules());
  std::vector<alert::transition> out;
  std::vector<protocol::leaf> cpu{num("cpu_percent", 45), num("load_1min", 1)};
  std::vector<protocol::leaf> mem{num("percent", 60), num("swap_percent", 1)};
  for (int i = 0; i < 1000000; ++i) {
    const std::string name = "fleet" + std::to_string(1000000 + i);
    const bool over = i % 100 == 7;
    cpu[0].number = over ? 95 : 45;
    mem[0].number = over ? 97 : 60;
    cpu[1].number = over ? 9 : 1;
    e.evaluate_plugin(name, "cpu_monitor", cpu, 1e9, out);
    e.evaluate_plugin(name, "memory_monitor", mem, 1e9, out);
    out.clear();
  }
  std::string body;
  for (auto _ : st) {
    body.clear();
    e.write_alerts(body, 1000000, [](std::string_view) { return true; });
    benchmark::DoNotOptimize(body.data());
  }
  st.counters["bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_alert_write_alerts_30k)->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace

BENCHMARK_MAIN();
