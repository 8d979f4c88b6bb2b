// Specification of the pure readers in include/heartbeat/readers/ on fixture
// files (tests/fixtures/proc/host1 is a fake root with /proc and /etc).
#include "heartbeat/readers/readers.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace heartbeat;
using namespace heartbeat::readers;

namespace {
const std::string fx = HB_FIXTURES_DIR;
const std::string root = fx + "/proc/host1";

std::string load(const std::string& rel) {
  auto t = read_file(fx, "/" + rel);
  EXPECT_TRUE(t.ok()) << rel;
  return t.ok() ? *t : std::string();
}
double num(const json::value& v, std::string_view k) {
  const json::value* f = v.find(k);
  EXPECT_TRUE(f && f->is_number()) << k << " in " << v.dump();
  return f ? f->as_number() : -1;
}
}  // namespace

TEST(ProcStat, ParsesAggregateCoresAndCounters) {
  stat_sample s = parse_proc_stat(load("proc/host1/proc/stat"));
  ASSERT_TRUE(s.valid);
  EXPECT_EQ(s.cores.size(), 2u);
  EXPECT_EQ(s.all.user, 8566u);
  EXPECT_EQ(s.all.steal, 283u);
  EXPECT_EQ(s.context_switches, 377751u);
  EXPECT_EQ(s.procs_running, 2u);
  EXPECT_EQ(s.boot_time, 1763800000u);
}

TEST(ProcStat, CpuPercentFromTwoSamples) {
  stat_sample a = parse_proc_stat(load("proc/host1/proc/stat"));
  stat_sample b = parse_proc_stat(load("proc/host1/proc/stat.2"));
  // total delta: 100+50+100 = 250 jiffies, idle delta 100 -> 60% busy.
  EXPECT_DOUBLE_EQ(cpu_percent(a.all, b.all), 60.0);
  // core0: user 20 + system 10 busy, idle 70 -> 30%; core1: 80+40 busy, 30 idle -> 80%.
  EXPECT_DOUBLE_EQ(cpu_percent(a.cores[0], b.cores[0]), 30.0);
  EXPECT_DOUBLE_EQ(cpu_percent(a.cores[1], b.cores[1]), 80.0);
  EXPECT_DOUBLE_EQ(cpu_percent(b.all, b.all), 0.0);  // no time passed
  EXPECT_DOUBLE_EQ(cpu_percent(b.all, a.all), 0.0);  // counters went back
}

TEST(ProcStat, CpuJsonHasSeedFieldNames) {
  stat_sample a = parse_proc_stat(load("proc/host1/proc/stat"));
  stat_sample b = parse_proc_stat(load("proc/host1/proc/stat.2"));
  cpu_extras x;
  x.load = parse_loadavg(load("proc/host1/proc/loadavg"));
  x.uptime_seconds = parse_uptime(load("proc/host1/proc/uptime"));
  x.process_count = 42;
  json::value d = cpu_json(a, b, x, true);
  EXPECT_EQ(num(d, "cpu_percent"), 60.0);
  EXPECT_EQ(num(d, "load_1min"), 0.13);
  EXPECT_EQ(num(d, "load_5min"), 0.14);
  EXPECT_EQ(num(d, "load_15min"), 0.09);
  EXPECT_EQ(num(d, "cpu_count"), 2);
  EXPECT_EQ(num(d, "process_count"), 42);
  EXPECT_EQ(num(d, "threads"), 95);
  EXPECT_EQ(num(d, "uptime_seconds"), 576);
  ASSERT_TRUE(d.find("per_core"));
  EXPECT_EQ(num(*d.find("per_core"), "cpu1"), 80.0);
  EXPECT_FALSE(cpu_json(a, b, x, false).contains("per_core"));
}

TEST(ProcStat, ReaderOnFixtureRootReportsSinceBootFirst) {
  cpu_reader r(root);
  auto d = r.read({.per_core = true, .frequency = true, .processes = false});
  ASSERT_TRUE(d.ok()) << d.err().message;
  EXPECT_GT(num(*d, "cpu_percent"), 0);
  EXPECT_GT(num(*d, "frequency_mhz"), 0);  // from the fixture's cpuinfo
  EXPECT_FALSE(cpu_reader("/nonexistent").read({}).ok());
}

TEST(Loadavg, ParsesAndRejectsGarbage) {
  loadavg l = parse_loadavg("1.50 0.75 0.25 3/120 999\n");
  EXPECT_TRUE(l.valid);
  EXPECT_EQ(l.load_1, 1.5);
  EXPECT_EQ(l.runnable, 3u);
  EXPECT_EQ(l.entities, 120u);
  EXPECT_FALSE(parse_loadavg("x y").valid);
  EXPECT_FALSE(parse_uptime("").has_value());
}

TEST(CpuInfo, AveragesMhz) {
  EXPECT_DOUBLE_EQ(*parse_cpuinfo_mhz("cpu MHz\t\t: 1000.0\nfoo\ncpu MHz : 3000\n"), 2000.0);
  EXPECT_FALSE(parse_cpuinfo_mhz("processor : 0\n").has_value());
}

TEST(Memory, PercentAvailableAndSwap) {
  meminfo m = parse_meminfo(load("proc/host1/proc/meminfo"));
  ASSERT_TRUE(m.valid);
  json::value d = memory_json(m);
  // 8000000 kB total, 2000000 kB available -> 75% used.
  EXPECT_EQ(num(d, "percent"), 75.0);
  EXPECT_EQ(num(d, "available_mb"), 1953.1);
  EXPECT_EQ(num(d, "swap_percent"), 25.0);
  EXPECT_FALSE(d.contains("zfs_arc_mb"));
}

TEST(Memory, ZfsArcAboveMinimumCountsAsAvailable) {
  auto d = read_memory(root);
  ASSERT_TRUE(d.ok());
  // ARC 2 GiB, c_min 512 MiB: 1536 MiB more available than MemAvailable.
  EXPECT_EQ(num(*d, "available_mb"), 1953.1 + 1536.0);
  EXPECT_EQ(num(*d, "zfs_arc_mb"), 2048.0);
  EXPECT_LT(num(*d, "percent"), 75.0);
}

TEST(Memory, WorksOnThisMachine) {
  auto d = read_memory();
  ASSERT_TRUE(d.ok());
  EXPECT_GT(num(*d, "total_mb"), 0);
  EXPECT_GE(num(*d, "percent"), 0);
}

TEST(Mounts, PhysicalOnlyUnescapedAndDeduplicated) {
  auto all = parse_mounts(load("proc/host1/proc/mounts"));
  auto sel = select_mounts(all);
  std::vector<std::string> points;
  for (const auto& m : sel) points.push_back(m.mount_point);
  EXPECT_EQ(points, (std::vector<std::string>{"/", "/srv/my data", "/home", "/mnt/usb"}));
  EXPECT_EQ(sel[0].options, "rw,relatime");  // the later mount on / wins
  EXPECT_GT(select_mounts(all, true).size(), sel.size());
}

TEST(Mounts, StatvfsOfRootGivesPartition) {
  auto parts = partitions_from_mounts({{"/dev/root", "/", "ext4", "rw"}});
  const json::value* r = parts.find("/");
  ASSERT_TRUE(r);
  EXPECT_GT(num(*r, "total_gb"), 0);
  EXPECT_GE(num(*r, "percent"), 0);
  EXPECT_LE(num(*r, "percent"), 100);
  EXPECT_NEAR(num(*r, "free_mb") / 1024, num(*r, "free_gb"), 0.01);
}

TEST(Df, ParsesPosixOutputWithSpaces) {
  auto rows = parse_df_p(load("df/df_p_spaces.txt"));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[3].mount_point, "/media/my disk");
  EXPECT_EQ(rows[2].usage.available, 5120000ull * 1024);
  json::value parts = partitions_from_df(load("df/df_p_spaces.txt"));
  EXPECT_FALSE(parts.contains("/dev"));
  EXPECT_FALSE(parts.contains("/run"));
  ASSERT_TRUE(parts.contains("/"));
  EXPECT_EQ(num(*parts.find("/"), "percent"), 94.7);  // df rounds up to 95%
  EXPECT_EQ(num(*parts.find("/"), "free_gb"), 4.88);
  EXPECT_TRUE(parts.contains("/tank/data"));
  EXPECT_TRUE(parts.contains("/media/my disk"));
  EXPECT_TRUE(partitions_from_df(load("df/df_p_local.txt")).contains("/"));
}

TEST(Diskstats, WholeDisksAndRates) {
  auto a = parse_diskstats(load("proc/host1/proc/diskstats"));
  auto b = parse_diskstats(load("proc/host1/proc/diskstats.2"));
  EXPECT_EQ(a.size(), 2u);  // vda, nvme0n1: no loop, zram or partitions
  EXPECT_TRUE(a.contains("vda"));
  EXPECT_FALSE(a.contains("vda1"));
  EXPECT_FALSE(a.contains("nvme0n1p1"));
  json::value io = diskstats_rates(a, b, 10);
  const json::value* vda = io.find("vda");
  ASSERT_TRUE(vda);
  EXPECT_EQ(num(*vda, "read_bytes_per_sec"), 10000.0 * 512 / 10);
  EXPECT_EQ(num(*vda, "write_bytes_per_sec"), 20000.0 * 512 / 10);
  EXPECT_EQ(num(*vda, "reads_per_sec"), 10);
  EXPECT_EQ(num(*vda, "busy_percent"), 5);  // 500 ms busy in 10 s
}

TEST(NetDev, RatesErrorsAndDrops) {
  auto a = parse_net_dev(load("proc/host1/proc/net/dev"));
  auto b = parse_net_dev(load("proc/host1/proc/net/dev.2"));
  EXPECT_EQ(a.size(), 4u);
  json::value d = network_json(a, b, 10);
  const json::value* ifs = d.find("interfaces");
  ASSERT_TRUE(ifs);
  EXPECT_FALSE(ifs->contains("lo"));
  const json::value* eth = ifs->find("eth0");
  ASSERT_TRUE(eth);
  EXPECT_EQ(num(*eth, "rx_bytes_per_sec"), 1000);
  EXPECT_EQ(num(*eth, "tx_bytes_per_sec"), 500);
  EXPECT_EQ(num(*eth, "rx_packets_per_sec"), 10);
  EXPECT_EQ(num(d, "errors_total"), 3);
  EXPECT_EQ(num(d, "dropped_total"), 4);
  EXPECT_TRUE(network_json(a, b, 10, true).find("interfaces")->contains("lo"));
}

TEST(NetTcp, CountsStatesOfV4AndV6) {
  std::map<std::string, std::uint64_t> counts;
  count_tcp_states(load("proc/host1/proc/net/tcp"), counts);
  count_tcp_states(load("proc/host1/proc/net/tcp6"), counts);
  json::value c = connections_json(counts);
  EXPECT_EQ(num(c, "total"), 6);
  EXPECT_EQ(num(c, "listen"), 3);
  EXPECT_EQ(num(c, "established"), 2);
  EXPECT_EQ(num(c, "time_wait"), 1);
  EXPECT_EQ(num(c, "close_wait"), 0);
}

TEST(Ping, IputilsBusyboxAndLoss) {
  ping_result ok = parse_ping_output(load("ping/iputils_ok.txt"));
  EXPECT_TRUE(ok.parsed);
  EXPECT_EQ(ok.transmitted, 3u);
  EXPECT_EQ(ok.received, 3u);
  EXPECT_EQ(ok.loss_percent, 0);
  EXPECT_TRUE(ok.rtt_avg.has_value());
  json::value j = ping_json(ok);
  EXPECT_TRUE(j.find("reachable")->as_bool());
  EXPECT_TRUE(j.contains("rtt_ms"));

  ping_result lost = parse_ping_output(load("ping/iputils_loss.txt"));
  EXPECT_EQ(lost.loss_percent, 100);
  EXPECT_EQ(lost.received, 0u);
  json::value jl = ping_json(lost);
  EXPECT_FALSE(jl.find("reachable")->as_bool());
  EXPECT_FALSE(jl.contains("rtt_ms"));

  ping_result bb = parse_ping_output(load("ping/busybox_partial.txt"));
  EXPECT_EQ(bb.received, 2u);
  EXPECT_EQ(bb.loss_percent, 33);
  EXPECT_EQ(*bb.rtt_avg, 1.234);
  EXPECT_FALSE(parse_ping_output("ping: unknown host").parsed);
}

TEST(Nagios, RealCheckLoadOutput) {
  json::value d = json::value::object();
  add_nagios_fields(d, "check_load", 0, load("nagios/check_load.txt"), "");
  EXPECT_EQ(num(d, "check_load_status_code"), 0);
  EXPECT_EQ(d.find("check_load_status")->as_string(), "OK");
  EXPECT_TRUE(d.find("check_load_output")->as_string().starts_with("LOAD OK"));
  EXPECT_TRUE(d.contains("check_load_load1"));
  EXPECT_EQ(num(d, "check_load_load1_warning"), 5);
  EXPECT_EQ(num(d, "check_load_load15_critical"), 6);
  EXPECT_EQ(num(d, "check_load_load1_min"), 0);
  EXPECT_FALSE(d.contains("status_code"));  // no aggregate field
}

TEST(Nagios, LongOutputMultiLinePerfdataQuotedLabelsRanges) {
  nagios_output o = parse_nagios_output(load("nagios/multiline.txt"));
  EXPECT_EQ(o.status_text, "DISK OK - free space: / 3326 MB (56%);");
  EXPECT_TRUE(o.long_output.starts_with("/ 15272 MB (77%);"));
  EXPECT_TRUE(o.long_output.ends_with("/var/log 819 MB (84%);"));
  ASSERT_EQ(o.perf.size(), 5u);
  EXPECT_EQ(o.perf[0].label, "/");
  EXPECT_EQ(o.perf[0].value, 2643);
  EXPECT_EQ(o.perf[0].unit, "MB");
  EXPECT_EQ(*o.perf[0].max, 5968);
  EXPECT_EQ(o.perf[3].label, "/var/log files");
  EXPECT_EQ(o.perf[4].label, "q'uote");
  EXPECT_EQ(o.perf[4].value, 1500);
  EXPECT_EQ(o.perf[4].unit, "s");
  EXPECT_EQ(o.perf[4].warning, "@10:20");
  EXPECT_EQ(o.perf[4].critical, "~:30");
  EXPECT_FALSE(o.perf[4].min.has_value());
  json::value d = json::value::object();
  add_nagios_fields(d, "disk", 0, load("nagios/multiline.txt"), "");
  EXPECT_EQ(d.find("disk_q_uote_warning")->as_string(), "@10:20");
  EXPECT_EQ(d.find("disk__var_log_files_unit")->as_string(), "MB");
}

TEST(Nagios, GarbagePerfdataSkipped) {
  nagios_output o = parse_nagios_output(load("nagios/garbage.txt"));
  EXPECT_EQ(o.status_text, "CRITICAL - something = broken");
  ASSERT_EQ(o.perf.size(), 1u);
  EXPECT_EQ(o.perf[0].label, "time");
  EXPECT_EQ(o.perf[0].value, 0.5);
}

TEST(Nagios, StderrWhenStdoutEmptyAndSignalIsUnknown) {
  json::value d = json::value::object();
  add_nagios_fields(d, "c", 2, "  \n", "CRITICAL - only on stderr\n");
  EXPECT_EQ(d.find("c_output")->as_string(), "CRITICAL - only on stderr");
  EXPECT_EQ(d.find("c_status")->as_string(), "CRITICAL");
  json::value k = json::value::object();
  add_nagios_fields(k, "k", -9, "", "");
  EXPECT_EQ(num(k, "k_status_code"), 3);
  EXPECT_EQ(k.find("k_status")->as_string(), "UNKNOWN");
  EXPECT_EQ(k.find("k_output")->as_string(), "killed by signal 9");
  EXPECT_EQ(status_from_exit(127), nagios_status::unknown);
}

TEST(Zpool, ListIostatStatus) {
  json::value pools = parse_zpool_list(load("zpool/list_hp.txt"));
  ASSERT_EQ(pools.size(), 2u);
  const json::value& tank = *pools.find("tank");
  EXPECT_EQ(num(tank, "capacity_percent"), 59);
  EXPECT_EQ(num(tank, "fragmentation_percent"), 12);
  EXPECT_EQ(num(tank, "dedup_ratio"), 1.0);
  EXPECT_EQ(tank.find("health")->as_string(), "ONLINE");
  EXPECT_TRUE(pools.find("backup")->find("fragmentation_percent")->is_null());
  EXPECT_FALSE(pools.find("backup")->find("healthy")->as_bool());
  json::value dflt = parse_zpool_list(load("zpool/list_hp_default.txt"));
  EXPECT_EQ(num(*dflt.find("tank"), "capacity_percent"), 59);
  merge_zpool_iostat(pools, load("zpool/iostat_hp.txt"));
  EXPECT_EQ(num(*pools.find("tank"), "write_bytes"), 1234567);
  json::value st = parse_zpool_status(load("zpool/status.txt"));
  EXPECT_EQ(st.find("backup")->find("state")->as_string(), "DEGRADED");
  EXPECT_EQ(num(*st.find("tank"), "checksum_errors"), 5);
  EXPECT_EQ(st.find("tank")->find("errors")->as_string(), "2 data errors, use '-v' for a list");
  EXPECT_TRUE(st.find("backup")->find("scan")->as_string().starts_with("scrub repaired"));
}

TEST(OsInfo, ReleaseAndUname) {
  json::value d = read_os_info(root);
  EXPECT_EQ(d.find("distribution")->as_string(), "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(d.find("distribution_id")->as_string(), "debian");
  EXPECT_EQ(d.find("distribution_version")->as_string(), "12");
  EXPECT_EQ(d.find("system")->as_string(), "Linux");
  EXPECT_FALSE(d.find("kernel")->as_string().empty());
}

TEST(SplitCommand, ShellLikeQuotingWithoutExpansion) {
  auto a = split_command(R"(/usr/bin/check -w 20% -p "/my disk" 'a b' c\ d "q\"x" $HOME)");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (std::vector<std::string>{"/usr/bin/check", "-w", "20%", "-p", "/my disk", "a b", "c d",
                                          "q\"x", "$HOME"}));
  EXPECT_FALSE(split_command("echo 'open").ok());
  EXPECT_FALSE(split_command("echo \"open").ok());
  EXPECT_FALSE(split_command("   ").ok());
  EXPECT_EQ(split_command("a''b")->at(0), "ab");
}

TEST(NetSockstat, TotalsWithoutWalkingTheConnectionTable) {
  json::value c = json::value::object();
  add_sockstat(load("proc/host1/proc/net/sockstat"), load("proc/host1/proc/net/sockstat6"), c);
  EXPECT_EQ(num(c, "tcp_inuse"), 5);
  EXPECT_EQ(num(c, "tcp6_inuse"), 2);
  EXPECT_EQ(num(c, "time_wait"), 3);
  EXPECT_EQ(num(c, "orphan"), 1);
  EXPECT_EQ(num(c, "udp_inuse"), 2);
  EXPECT_EQ(num(c, "udp6_inuse"), 1);
  EXPECT_EQ(num(c, "total"), 10);
  // With per-state counts present, their total and time_wait are kept.
  std::map<std::string, std::uint64_t> counts;
  count_tcp_states(load("proc/host1/proc/net/tcp"), counts);
  json::value s = connections_json(counts);
  add_sockstat(load("proc/host1/proc/net/sockstat"), "", s);
  EXPECT_EQ(num(s, "total"), 4);
  EXPECT_EQ(num(s, "time_wait"), 1);
  EXPECT_EQ(num(s, "established"), 1);
}
