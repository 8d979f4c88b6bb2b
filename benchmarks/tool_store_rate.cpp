// The store's write rate for plugin history (docs/CLUSTER.md, "Figures"): one
// thread enqueues PLG rows as the io thread does (put_plugin: latest data and a
// history row each), the store's writer commits them in batches; the rate is rows
// committed per second until flush() returns. A full queue is waited out (not
// counted as a drop): the figure is what the writer sustains. With plugins 0 it
// writes host rows instead (put_host_row, as the io thread saves each host that sent
// an HTB about once a second): one per host per round.
//   tool_store_rate sqlite PATH [hosts] [plugins] [rounds]
//   tool_store_rate postgresql CONNINFO [hosts] [plugins] [rounds]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "heartbeat/server/host_json.hpp"
#include "heartbeat/server/store.hpp"
#include "heartbeat/server/store_pg.hpp"

using namespace heartbeat;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s sqlite PATH | postgresql CONNINFO [hosts] [plugins] [rounds]\n", argv[0]);
    return 2;
  }
  std::string kind = argv[1], where = argv[2];
  int hosts = argc > 3 ? std::atoi(argv[3]) : 2000;
  int plugins = argc > 4 ? std::atoi(argv[4]) : 9;
  int rounds = argc > 5 ? std::atoi(argv[5]) : 5;
  std::unique_ptr<server::store_backend> store;
  if (kind == "sqlite") {
    server::store_options o;
    o.path = where;
    store = std::make_unique<server::store>(o);
  } else {
    server::pg_store_options o;
    o.conninfo = where;
    o.application_name = "tool_store_rate";
    store = std::make_unique<server::pg_store>(o);
  }
  if (auto s = store->load(); !s) {
    std::fprintf(stderr, "load: %s\n", s.err().message.c_str());
    return 1;
  }
  if (auto r = store->start(); !r) {
    std::fprintf(stderr, "start: %s\n", r.err().message.c_str());
    return 1;
  }
  // About what a disk_monitor or cpu_monitor sample weighs.
  const std::string data =
      R"({"cpu_percent":12.5,"load_1min":0.42,"load_5min":0.38,"load_15min":0.31,"per_cpu":[10.1,14.9,11.0,13.8],)"
      R"("iowait":0.2,"steal":0.0,"partitions":{"/":{"percent":41.5,"used":41234567,"total":99365000}}})";
  std::string names[16] = {"cpu_monitor",  "memory_monitor",
                           "disk_monitor", "network_monitor",
                           "os_info",      "proc_monitor",
                           "zfs_monitor",  "smart",
                           "ntp",          "p9",
                           "p10",          "p11",
                           "p12",          "p13",
                           "p14",          "p15"};
  auto t0 = std::chrono::steady_clock::now();
  double ts = 1.7e9;
  long rows = 0;
  server::host sample_host;
  sample_host.name = "host0";
  sample_host.agent = "hbc 1.0";
  sample_host.state = server::host_state::up;
  auto& c4 = sample_host.conn(server::address_family::ipv4);
  c4.present = true;
  c4.address = "192.0.2.10";
  for (int r = 0; r < rounds; ++r) {
    for (int h = 0; h < hosts; ++h) {
      std::string host = "host" + std::to_string(h);
      if (plugins == 0) {
        sample_host.name = host;
        sample_host.last_seen = c4.last_seen = ts + r;
        c4.seq = static_cast<std::uint64_t>(r);
        std::string row, conns;
        server::write_host_row(row, conns, sample_host);
        while (!store->put_host_row(host, row, conns, ts + r))
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        ++rows;
      }
      for (int p = 0; p < plugins; ++p) {
        while (!store->put_plugin(host, names[p % 16], ts + r * 300 + h * 0.001, data))
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        ++rows;
      }
    }
  }
  if (!store->flush(std::chrono::minutes(10))) {
    std::fprintf(stderr, "flush timed out\n");
    return 1;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto st = store->stats();
  store->stop();
  std::printf("%s: %ld rows in %.2f s = %.0f rows/s (%llu transactions, %llu errors)\n", kind.c_str(), rows,
              secs, rows / secs, static_cast<unsigned long long>(st.transactions),
              static_cast<unsigned long long>(st.errors));
  return st.errors ? 1 : 0;
}
