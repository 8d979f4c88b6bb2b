// tool_rw_throughput: how many samples per second one remote write sender thread sustains into a real
// receiver. The main thread hands over PLGs of 15 numeric leaves (H hosts x P plugins, each round one
// second later): one round first so that the receiver knows every series, then as fast as the sender
// takes them for S seconds; then it waits until every sample was accepted. Prints one line of
// key=value figures for the measured part: samples, seconds, rate (accepted samples per second of
// wall time), sender_ns (the sender thread's CPU per sample: flattening, encoding, compression and
// HTTP), receiver_ns (the receiver's CPU per sample, with --receiver-pid), failed, dropped.
//
//   tool_rw_throughput --url http://127.0.0.1:8428/api/v1/write [--seconds 10] [--hosts 10000] [--plugins 9]
//                      [--max-samples 2000] [--receiver-pid PID]
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "heartbeat/remote_write/sender.hpp"

#include "tool_util.hpp"

using namespace heartbeat;

namespace {

// CPU seconds (user + system) of another process so far; 0 without one.
double process_cpu(long pid) {
  if (pid <= 0) return 0;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return 0;
  char buf[1024];
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');  // fields after the command name, which may hold spaces
  unsigned long long utime = 0, stime = 0;
  if (!p || std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
    return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string plugin_data(long h, int p, long round) {
  char b[1024];
  std::snprintf(
      b, sizeof b,
      "{\"cpu_percent\":%.1f,\"load\":{\"1\":%.2f,\"5\":%.2f,\"15\":%.2f},\"mem\":{\"percent\":%.1f,"
      "\"available_mb\":%ld,\"swap_percent\":%.1f},\"disk\":{\"/\":{\"percent\":%.1f,\"free_gb\":%.1f},"
      "\"/var\":{\"percent\":%.1f,\"free_gb\":%.1f}},\"net\":{\"rx_bps\":%ld,\"tx_bps\":%ld},"
      "\"procs\":%ld,\"uptime\":%ld,\"kernel\":\"6.1.0-%d\"}",
      static_cast<double>((h * 7 + round) % 100), (h % 400) / 100.0, (h % 300) / 100.0, (h % 200) / 100.0,
      static_cast<double>((h * 3 + p) % 100), 1000 + h % 5000, static_cast<double>(h % 50),
      static_cast<double>((h + round) % 100), 10.5 + static_cast<double>(h % 90),
      static_cast<double>((h * 5) % 100), 3.25 + p, 1000 * (h % 977), 700 * (h % 881), 100 + h % 300,
      86400 + round, p);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  double seconds = 10;
  long hosts = 10000;
  int plugins = 9;
  std::size_t max_samples = 2000;
  long receiver_pid = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--url")
      url = argv[i + 1];
    else if (a == "--seconds")
      seconds = std::atof(argv[i + 1]);
    else if (a == "--hosts")
      hosts = std::atol(argv[i + 1]);
    else if (a == "--plugins")
      plugins = std::atoi(argv[i + 1]);
    else if (a == "--max-samples")
      max_samples = static_cast<std::size_t>(std::atol(argv[i + 1]));
    else if (a == "--receiver-pid")
      receiver_pid = std::atol(argv[i + 1]);
    else {
      std::fprintf(stderr, "tool_rw_throughput: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (url.empty() || hosts < 1 || plugins < 1) {
    std::fprintf(stderr, "usage: tool_rw_throughput --url URL [--seconds S] [--hosts H] [--plugins P]\n");
    return 2;
  }
  char tmpl[] = "/tmp/hb-rw-bench-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);

  remote_write::target_config t;
  t.name = "bench";
  t.url = url;
  t.flush_interval = 1;
  t.max_samples_per_send = max_samples;
  t.external_labels = {{"site", "bench"}};
  t.spool_max_bytes = std::uint64_t{1} << 30;
  remote_write::sender s(t, dir + "/spool", std::size_t{64} << 20);
  if (auto r = s.start(); !r) {
    std::fprintf(stderr, "tool_rw_throughput: %s\n", r.err().message.c_str());
    return 1;
  }
  remote_write::feed f;
  f.attach(&s.queue());

  std::vector<std::string> names;
  for (long h = 0; h < hosts; ++h) names.push_back("host-" + std::to_string(h) + ".bench.example.com");
  std::vector<std::string> plugin_names;
  for (int p = 0; p < plugins; ++p) plugin_names.push_back("plugin_" + std::to_string(p));

  const auto& st = s.stats();
  const double base_ts = clock::wall_now() - 86400;  // within every receiver's retention
  std::uint64_t produced = 0;
  long round = 0;
  std::string data;
  // One round of every host and plugin, `seconds` long at most (0: the whole round).
  auto run = [&](double seconds) {
    const double t0 = clock::mono_now();
    for (long h = 0; h < hosts && (seconds <= 0 || clock::mono_now() - t0 < seconds); ++h) {
      for (int p = 0; p < plugins; ++p) {
        data = plugin_data(h, p, round);
        // The load waits for room (the sender is what is measured; hbd's io thread never waits), and
        // for the receiver when it is more than 500,000 samples behind (a slower receiver would
        // otherwise see the rest go to the spool, and the run would measure the spool's draining).
        while (produced > st.sent.load() + st.rejected.load() + 500000)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        for (;;) {
          std::uint64_t dropped = s.queue().dropped;
          f.plugin(names[static_cast<std::size_t>(h)], plugin_names[static_cast<std::size_t>(p)],
                   base_ts + static_cast<double>(round), data);
          if (s.queue().dropped == dropped) break;
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        produced += 15;
      }
    }
    ++round;
  };
  auto settle = [&] {
    const double deadline = clock::mono_now() + 300;
    while (st.sent.load() + st.rejected.load() < produced && clock::mono_now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  // Warm-up: the receiver creates every series once (far costlier than a sample of a known series).
  run(0);
  settle();
  const std::uint64_t sent0 = st.sent.load();
  const double start = clock::mono_now();
  const double main_cpu0 = tool::seconds(CLOCK_THREAD_CPUTIME_ID),
               proc_cpu0 = tool::seconds(CLOCK_PROCESS_CPUTIME_ID);
  const double receiver_cpu0 = process_cpu(receiver_pid);
  while (clock::mono_now() - start < seconds) run(seconds - (clock::mono_now() - start));
  settle();
  const double elapsed = clock::mono_now() - start;
  const double main_cpu = tool::seconds(CLOCK_THREAD_CPUTIME_ID) - main_cpu0;
  const double sender_cpu = tool::seconds(CLOCK_PROCESS_CPUTIME_ID) - proc_cpu0 - main_cpu;
  const double receiver_cpu = process_cpu(receiver_pid) - receiver_cpu0;
  const double n = static_cast<double>(std::max<std::uint64_t>(1, st.sent.load() - sent0));
  std::printf(
      "samples=%.0f seconds=%.2f rate=%.0f sender_ns=%.1f receiver_ns=%.1f failed=%llu dropped=%llu\n", n,
      elapsed, n / elapsed, sender_cpu * 1e9 / n, receiver_cpu * 1e9 / n,
      static_cast<unsigned long long>(st.failed.load()),
      static_cast<unsigned long long>(st.rejected.load() + st.out_of_order.load()));
  s.stop();
  std::filesystem::remove_all(dir);
  return st.sent.load() >= produced ? 0 : 1;
}
