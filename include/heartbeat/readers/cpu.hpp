// Pure readers behind cpu_monitor: /proc/stat (CPU percent from two samples,
// per core), /proc/loadavg, /proc/uptime, CPU frequency (sysfs cpufreq, else
// /proc/cpuinfo), process counts. Text in, numbers or json::value out; only the
// standard library and POSIX (hbc_mini shares it). A cpu_reader belongs to one thread.
#pragma once

#include <dirent.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::readers {

// Jiffies of one "cpu" line of /proc/stat (guest time is already inside user).
struct cpu_times {
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  std::uint64_t total() const noexcept {
    return user + nice + system + idle + iowait + irq + softirq + steal;
  }
  std::uint64_t idle_all() const noexcept { return idle + iowait; }
};

struct stat_sample {
  cpu_times all;
  std::vector<cpu_times> cores;  // cpu0, cpu1, ... in file order
  std::uint64_t context_switches = 0;
  std::uint64_t forks = 0;  // "processes": forks since boot
  std::uint64_t procs_running = 0;
  std::uint64_t procs_blocked = 0;
  std::uint64_t boot_time = 0;  // btime, Unix seconds
  bool valid = false;           // the aggregate "cpu" line was present
};

inline stat_sample parse_proc_stat(std::string_view text) {
  stat_sample s;
  for_each_line(text, [&](std::string_view line) {
    auto f = fields(line);
    if (f.empty()) return;
    if (f[0].starts_with("cpu")) {
      cpu_times t;
      std::uint64_t* slots[] = {&t.user,   &t.nice, &t.system,  &t.idle,
                                &t.iowait, &t.irq,  &t.softirq, &t.steal};
      for (std::size_t i = 0; i < 8 && i + 1 < f.size(); ++i) *slots[i] = to_u64(f[i + 1]);
      if (f[0] == "cpu") {
        s.all = t;
        s.valid = true;
      } else {
        s.cores.push_back(t);
      }
    } else if (f.size() >= 2) {
      if (f[0] == "ctxt")
        s.context_switches = to_u64(f[1]);
      else if (f[0] == "processes")
        s.forks = to_u64(f[1]);
      else if (f[0] == "procs_running")
        s.procs_running = to_u64(f[1]);
      else if (f[0] == "procs_blocked")
        s.procs_blocked = to_u64(f[1]);
      else if (f[0] == "btime")
        s.boot_time = to_u64(f[1]);
    }
  });
  return s;
}

// Busy percent between two samples (0..100). With no time elapsed, 0. Counter
// resets (a later sample below the earlier) count as 0 elapsed.
inline double cpu_percent(const cpu_times& before, const cpu_times& after) noexcept {
  std::uint64_t t0 = before.total(), t1 = after.total();
  if (t1 <= t0) return 0.0;
  std::uint64_t i0 = before.idle_all(), i1 = after.idle_all();
  double didle = i1 >= i0 ? static_cast<double>(i1 - i0) : 0.0;
  double dtotal = static_cast<double>(t1 - t0);
  double busy = (dtotal - didle) / dtotal * 100.0;
  return busy < 0 ? 0 : busy > 100 ? 100 : busy;
}

struct loadavg {
  double load_1 = 0, load_5 = 0, load_15 = 0;
  std::uint64_t runnable = 0;  // currently runnable scheduling entities
  std::uint64_t entities = 0;  // all scheduling entities (threads)
  bool valid = false;
};

inline loadavg parse_loadavg(std::string_view text) {
  loadavg l;
  auto f = fields(text);
  if (f.size() < 3) return l;
  l.valid = parse_double(f[0], l.load_1) && parse_double(f[1], l.load_5) && parse_double(f[2], l.load_15);
  if (f.size() >= 4) {
    auto slash = f[3].find('/');
    if (slash != std::string_view::npos) {
      l.runnable = to_u64(f[3].substr(0, slash));
      l.entities = to_u64(f[3].substr(slash + 1));
    }
  }
  return l;
}

// Seconds since boot (first number of /proc/uptime).
inline std::optional<double> parse_uptime(std::string_view text) {
  auto f = fields(text);
  double v;
  if (f.empty() || !parse_double(f[0], v)) return std::nullopt;
  return v;
}

// Mean of the "cpu MHz" lines of /proc/cpuinfo (x86); nullopt when absent (many ARM kernels).
inline std::optional<double> parse_cpuinfo_mhz(std::string_view text) {
  double sum = 0;
  int n = 0;
  for_each_line(text, [&](std::string_view line) {
    if (!line.starts_with("cpu MHz")) return;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    double v;
    if (parse_double(trim(line.substr(colon + 1)), v)) {
      sum += v;
      ++n;
    }
  });
  if (n == 0) return std::nullopt;
  return sum / n;
}

struct cpu_frequency {
  std::optional<double> current_mhz;
  std::optional<double> max_mhz;
};

// Frequency from sysfs cpufreq (kHz per core, averaged), else /proc/cpuinfo.
inline cpu_frequency read_cpu_frequency(std::string_view root, std::size_t cores) {
  cpu_frequency f;
  double sum = 0, maxv = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < cores; ++i) {
    std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(i) + "/cpufreq/";
    auto cur = read_file(root, base + "scaling_cur_freq", 64);
    if (!cur) break;
    double khz;
    if (!parse_double(trim(*cur), khz)) break;
    sum += khz / 1000.0;
    ++n;
    if (auto mx = read_file(root, base + "cpuinfo_max_freq", 64)) {
      double m;
      if (parse_double(trim(*mx), m) && m / 1000.0 > maxv) maxv = m / 1000.0;
    }
  }
  if (n > 0) {
    f.current_mhz = sum / static_cast<double>(n);
    if (maxv > 0) f.max_mhz = maxv;
    return f;
  }
  if (auto info = read_file(root, "/proc/cpuinfo")) f.current_mhz = parse_cpuinfo_mhz(*info);
  return f;
}

// Number of processes: numeric directories of <root>/proc.
inline std::optional<std::uint64_t> count_processes(std::string_view root) {
  std::string dir(root);
  dir += "/proc";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return std::nullopt;
  std::uint64_t n = 0;
  while (dirent* e = ::readdir(d)) {
    const char* p = e->d_name;
    if (*p < '0' || *p > '9') continue;
    bool digits = true;
    for (; *p; ++p)
      if (*p < '0' || *p > '9') digits = false;
    if (digits) ++n;
  }
  ::closedir(d);
  return n;
}

// What cpu_json adds beside the /proc/stat samples (absent parts are omitted).
struct cpu_extras {
  loadavg load;
  std::optional<double> uptime_seconds;
  cpu_frequency frequency;
  std::optional<std::uint64_t> process_count;
};

// The cpu_monitor data object. Fields: cpu_percent, cpu_count, per_core
// ({"cpu0": pct, ...}, only when asked), load_1min/5min/15min, frequency_mhz,
// frequency_max_mhz, process_count, processes_running, processes_blocked,
// threads, context_switches, uptime_seconds, boot_time.
inline json::value cpu_json(const stat_sample& before, const stat_sample& after, const cpu_extras& x,
                            bool per_core) {
  json::value d = json::value::object();
  d.set("cpu_percent", round_to(cpu_percent(before.all, after.all)));
  d.set("cpu_count", static_cast<unsigned long>(after.cores.size()));
  if (per_core) {
    json::value cores = json::value::object();
    for (std::size_t i = 0; i < after.cores.size(); ++i) {
      cpu_times zero;
      const cpu_times& b = i < before.cores.size() ? before.cores[i] : zero;
      cores.set("cpu" + std::to_string(i), round_to(cpu_percent(b, after.cores[i])));
    }
    d.set("per_core", std::move(cores));
  }
  if (x.load.valid) {
    d.set("load_1min", x.load.load_1);
    d.set("load_5min", x.load.load_5);
    d.set("load_15min", x.load.load_15);
  }
  if (x.frequency.current_mhz) d.set("frequency_mhz", round_to(*x.frequency.current_mhz));
  if (x.frequency.max_mhz) d.set("frequency_max_mhz", round_to(*x.frequency.max_mhz));
  if (x.process_count) d.set("process_count", static_cast<unsigned long long>(*x.process_count));
  d.set("processes_running", static_cast<unsigned long long>(after.procs_running));
  d.set("processes_blocked", static_cast<unsigned long long>(after.procs_blocked));
  if (x.load.valid && x.load.entities) d.set("threads", static_cast<unsigned long long>(x.load.entities));
  d.set("context_switches", static_cast<unsigned long long>(after.context_switches));
  if (x.uptime_seconds) d.set("uptime_seconds", round_to(*x.uptime_seconds, 0));
  if (after.boot_time) d.set("boot_time", static_cast<unsigned long long>(after.boot_time));
  return d;
}

// Stateful reader: keeps the previous /proc/stat sample, so each read() reports
// the CPU use since the last one (the first read reports the average since boot).
class cpu_reader {
 public:
  explicit cpu_reader(std::string root = {}) : root_(std::move(root)) {}

  struct options {
    bool per_core = false;
    bool frequency = true;
    bool processes = true;
  };

  result<json::value> read(const options& o) {
    auto text = read_file(root_, "/proc/stat");
    if (!text) return text.err();
    stat_sample cur = parse_proc_stat(*text);
    if (!cur.valid) return make_error("parse", "/proc/stat: no aggregate cpu line");
    cpu_extras x;
    if (auto t = read_file(root_, "/proc/loadavg", 256)) x.load = parse_loadavg(*t);
    if (auto t = read_file(root_, "/proc/uptime", 256)) x.uptime_seconds = parse_uptime(*t);
    if (o.frequency) x.frequency = read_cpu_frequency(root_, cur.cores.size());
    if (o.processes) x.process_count = count_processes(root_);
    json::value d = cpu_json(prev_, cur, x, o.per_core);
    prev_ = std::move(cur);
    return d;
  }

 private:
  std::string root_;
  stat_sample prev_;  // zero before the first read: the first percent is since boot
};

}  // namespace heartbeat::readers
