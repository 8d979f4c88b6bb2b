// tool_fleet: a fleet of N simulated hosts on one core, each sending an HTB every
// --htb-every seconds (30) and hbc's 9 plugins every --plg-every seconds (300),
// spread evenly over the period, to a UDP server on loopback. About 1 % of the
// hosts (host number % 100 == 7) report values over the fleet benchmark's three
// threshold rules (cpu_monitor.cpu_percent, memory_monitor.percent,
// ping_monitor.loss_percent). Counts ACKs against HTBs sent; one thread, POSIX sockets.
//
//   tool_fleet --port P [--hosts N] [--duration S] [--htb-every 30] [--plg-every 300] [--sockets 64]
//              [--prefix fleet] [--register [--no-plugins]]
//   --register: every host's HTB + 9 plugins once (--no-plugins: the HTB only), then exit.
// Prints one line of key=value figures: htb, plg, acks, loss, cpu_s (this process), elapsed.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tool_util.hpp"

namespace {

using tool::cpu_seconds;
using tool::mono;
using tool::wall;

struct options {
  int port = 50003;
  long hosts = 100000;
  double duration = 60;
  double htb_every = 30;
  double plg_every = 300;
  int sockets = 64;
  std::string prefix = "fleet";
  bool register_only = false;
  bool no_plugins = false;  // --register sends HTBs only (the cost of a host with no plugin data)
};

constexpr int plugin_count = 9;
constexpr long block = 64;  // consecutive hosts share a source socket: one sendmmsg per block

// One of hbc's plugin shapes for host `h` (hot: over the thresholds).
int format_plg(char* out, std::size_t cap, const options& o, long h, int p, double ts) {
  const bool hot = h % 100 == 7;
  const double r = std::fmod(h * 7.31 + ts * 0.01, 1.0);  // per host, drifting slowly
  char head[128];
  std::snprintf(head, sizeof head, "{\"ID\":\"PLG\",\"name\":\"%s%07ld\",\"ts\":%.3f,", o.prefix.c_str(), h,
                ts);
  switch (p) {
    case 0:
      return std::snprintf(
          out, cap,
          "%s\"plugin\":\"cpu_monitor\",\"kind\":\"monitor\",\"data\":{\"cpu_percent\":%.1f,"
          "\"user\":%.1f,\"system\":%.1f,\"iowait\":%.1f,\"load_1min\":%.2f,\"load_5min\":%.2f,"
          "\"load_15min\":%.2f,\"cores\":8}}",
          head, hot ? 95.0 : 5 + 40 * r, 20 * r, 5 * r, r, 2 * r, 1.5 * r, r);
    case 1:
      return std::snprintf(
          out, cap,
          "%s\"plugin\":\"memory_monitor\",\"kind\":\"monitor\",\"data\":{\"percent\":%.1f,"
          "\"total_mb\":16384,\"available_mb\":%.0f,\"swap_percent\":%.1f,\"swap_total_mb\":2048}}",
          head, hot ? 97.0 : 30 + 40 * r, 16384 * (1 - r), 3 * r);
    case 2:
      return std::snprintf(out, cap,
                           "%s\"plugin\":\"disk_monitor\",\"kind\":\"monitor\",\"data\":{\"partitions\":{"
                           "\"/\":{\"percent\":%.1f,\"free_gb\":%.1f,\"inodes_percent\":%.1f},"
                           "\"/var\":{\"percent\":%.1f,\"free_gb\":%.1f,\"inodes_percent\":%.1f}},"
                           "\"read_bytes_per_s\":%.0f,\"write_bytes_per_s\":%.0f}}",
                           head, 40 + 30 * r, 100 * (1 - r), 10 * r, 20 + 50 * r, 50 * (1 - r), 5 * r,
                           1e6 * r, 2e6 * r);
    case 3:
      return std::snprintf(out, cap,
                           "%s\"plugin\":\"network_monitor\",\"kind\":\"monitor\",\"data\":{\"interfaces\":{"
                           "\"eth0\":{\"rx_bytes_per_s\":%.0f,\"tx_bytes_per_s\":%.0f,\"rx_errors\":0,"
                           "\"tx_errors\":0,\"up\":true}},\"tcp_established\":%ld}}",
                           head, 1e5 * r, 5e4 * r, 10 + h % 200);
    case 4:
      return std::snprintf(out, cap,
                           "%s\"plugin\":\"ping_monitor\",\"kind\":\"monitor\",\"data\":{\"targets\":1,"
                           "\"loss_percent\":%.1f,\"rtt_ms\":%.2f}}",
                           head, hot ? 50.0 : 0.0, 0.2 + r);
    case 5:
      return std::snprintf(
          out, cap,
          "%s\"plugin\":\"zfs_monitor\",\"kind\":\"monitor\",\"data\":{\"pools\":{\"tank\":{"
          "\"health\":\"ONLINE\",\"capacity_percent\":%.1f,\"fragmentation_percent\":%.1f}}}}",
          head, 30 + 30 * r, 10 * r);
    case 6:
      return std::snprintf(out, cap,
                           "%s\"plugin\":\"nagios_runner\",\"kind\":\"monitor\",\"data\":{\"checks\":{"
                           "\"check_ntp\":{\"status\":0,\"output\":\"NTP OK: offset %.3f s\"},"
                           "\"check_smtp\":{\"status\":0,\"output\":\"SMTP OK\"}}}}",
                           head, 0.01 * r);
    case 7:
      return std::snprintf(
          out, cap,
          "%s\"plugin\":\"os_info\",\"kind\":\"info\",\"data\":{\"os\":\"Debian GNU/Linux 12\","
          "\"kernel\":\"6.1.0-%ld-amd64\",\"arch\":\"x86_64\",\"uptime_s\":%.0f,\"boot_time\":%.0f}}",
          head, 10 + h % 8, 86400 * 30 * r, ts - 86400 * 30 * r);
    default:
      return std::snprintf(out, cap,
                           "%s\"plugin\":\"filesystem_info\",\"kind\":\"info\",\"data\":{\"filesystems\":["
                           "{\"mount\":\"/\",\"type\":\"ext4\",\"size_gb\":200},"
                           "{\"mount\":\"/var\",\"type\":\"xfs\",\"size_gb\":100}]}}",
                           head);
  }
}

int format_htb(char* out, std::size_t cap, const options& o, long h, unsigned long long seq, double ts) {
  return std::snprintf(
      out, cap,
      "{\"ID\":\"HTB\",\"name\":\"%s%07ld\",\"ver\":1,\"seq\":%llu,\"interval\":%.0f,\"ts\":%.3f,"
      "\"rtt\":0.4,\"agent\":\"fleet/1\"}",
      o.prefix.c_str(), h, seq, o.htb_every, ts);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return tool::arg_value("tool_fleet", argc, argv, i); };
    if (a == "--port")
      o.port = std::atoi(next());
    else if (a == "--hosts")
      o.hosts = std::atol(next());
    else if (a == "--duration")
      o.duration = std::atof(next());
    else if (a == "--htb-every")
      o.htb_every = std::atof(next());
    else if (a == "--plg-every")
      o.plg_every = std::atof(next());
    else if (a == "--sockets")
      o.sockets = std::atoi(next());
    else if (a == "--prefix")
      o.prefix = next();
    else if (a == "--register")
      o.register_only = true;
    else if (a == "--no-plugins")
      o.no_plugins = true;
    else {
      std::fprintf(stderr, "tool_fleet: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (o.hosts < 1 || o.sockets < 1 || o.htb_every <= 0 || o.plg_every <= 0) return 2;

  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<std::uint16_t>(o.port));
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fds;
  std::vector<pollfd> pfds;
  for (int i = 0; i < o.sockets; ++i) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int buf = 8 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0)
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
      std::perror("tool_fleet: connect");
      return 1;
    }
    fds.push_back(fd);
    pfds.push_back({fd, POLLIN, 0});
  }
  auto sock_of = [&](long h) { return fds[static_cast<std::size_t>((h / block) % o.sockets)]; };

  std::vector<unsigned> seq(static_cast<std::size_t>(o.hosts), 0);
  unsigned long long htbs = 0, plgs = 0, acks = 0, send_errors = 0;
  constexpr unsigned batch = 64;
  static char tbufs[batch][1024];
  static char rbufs[batch][512];
  mmsghdr th[batch]{}, rh[batch]{};
  iovec tiov[batch], riov[batch];

  auto drain = [&](int timeout_ms) {
    if (::poll(pfds.data(), pfds.size(), timeout_ms) <= 0) return;
    for (auto& p : pfds) {
      if (!(p.revents & POLLIN)) continue;
      for (;;) {
        for (unsigned i = 0; i < batch; ++i) {
          riov[i] = {rbufs[i], sizeof rbufs[i]};
          rh[i].msg_hdr = {};
          rh[i].msg_hdr.msg_iov = &riov[i];
          rh[i].msg_hdr.msg_iovlen = 1;
        }
        int k = ::recvmmsg(p.fd, rh, batch, MSG_DONTWAIT, nullptr);
        if (k <= 0) break;
        for (int j = 0; j < k; ++j)
          if (rh[j].msg_len > 10 && std::memcmp(rbufs[j], "{\"ID\":\"ACK\"", 11) == 0) ++acks;
      }
    }
  };
  // Sends the m datagrams staged in tbufs on `fd` (waiting for room, never dropping).
  auto flush = [&](int fd, unsigned m) {
    unsigned done = 0;
    while (done < m) {
      int r = ::sendmmsg(fd, th + done, m - done, 0);
      if (r > 0) {
        done += static_cast<unsigned>(r);
        continue;
      }
      if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR) {
        ++send_errors;
        ++done;
        continue;
      }
      drain(1);
    }
  };
  auto stage = [&](unsigned m, int n) {
    tiov[m] = {tbufs[m], static_cast<std::size_t>(n)};
    th[m].msg_hdr = {};
    th[m].msg_hdr.msg_iov = &tiov[m];
    th[m].msg_hdr.msg_iovlen = 1;
  };
  // HTBs number `from` .. `to` - 1 of the endless round (host = k % hosts), batched by socket block.
  auto send_htbs = [&](unsigned long long from, unsigned long long to) {
    while (from < to) {
      long h = static_cast<long>(from % static_cast<unsigned long long>(o.hosts));
      long end_block = std::min(o.hosts, (h / block + 1) * block);
      unsigned m = 0;
      double ts = wall();
      while (from < to && h < end_block && m < batch) {
        stage(m, format_htb(tbufs[m], sizeof tbufs[m], o, h, ++seq[static_cast<std::size_t>(h)], ts));
        ++m, ++h, ++from;
      }
      flush(sock_of(h - 1), m);
      htbs += m;
    }
  };
  // PLGs number `from` .. `to` - 1 (host = (k / 9) % hosts, plugin = k % 9).
  auto send_plgs = [&](unsigned long long from, unsigned long long to) {
    while (from < to) {
      long h = static_cast<long>((from / plugin_count) % static_cast<unsigned long long>(o.hosts));
      const int fd = sock_of(h);
      unsigned m = 0;
      double ts = wall();
      while (from < to && m < batch) {
        long hh = static_cast<long>((from / plugin_count) % static_cast<unsigned long long>(o.hosts));
        if (sock_of(hh) != fd) break;
        stage(m, format_plg(tbufs[m], sizeof tbufs[m], o, hh, static_cast<int>(from % plugin_count), ts));
        ++m, ++from;
      }
      flush(fd, m);
      plgs += m;
    }
  };

  const double start = mono();
  if (o.register_only) {
    // Every host once, paced at 50,000 datagrams/s so the server keeps up.
    const unsigned long long total = static_cast<unsigned long long>(o.hosts);
    for (unsigned long long done = 0; done < total;) {
      unsigned long long next = std::min(total, done + 500);
      send_htbs(done, next);
      if (!o.no_plugins) send_plgs(done * plugin_count, next * plugin_count);
      done = next;
      double due = start + static_cast<double>(htbs + plgs) / 50000.0;
      while (mono() < due) drain(std::max(0, static_cast<int>((due - mono()) * 1000)));
    }
  } else {
    // Steady state: each cursor is where an even spread over its period says it should be.
    const double htb_rate = static_cast<double>(o.hosts) / o.htb_every;
    const double plg_rate = static_cast<double>(o.hosts) * plugin_count / o.plg_every;
    unsigned long long htb_done = 0, plg_done = 0;
    while (mono() - start < o.duration) {
      const double t = mono() - start;
      const auto htb_due = static_cast<unsigned long long>(t * htb_rate);
      const auto plg_due = static_cast<unsigned long long>(t * plg_rate);
      if (htb_due > htb_done) send_htbs(htb_done, htb_due), htb_done = htb_due;
      if (plg_due > plg_done) send_plgs(plg_done, plg_due), plg_done = plg_due;
      drain(2);
    }
  }
  const double tail = mono() + 2;
  while (acks < htbs && mono() < tail) drain(50);
  const double elapsed = mono() - start;
  const double loss = htbs ? 1.0 - static_cast<double>(std::min(acks, htbs)) / static_cast<double>(htbs) : 0;
  std::printf("htb=%llu plg=%llu acks=%llu loss=%.6f send_errors=%llu elapsed=%.1f cpu_s=%.2f rate=%.0f\n",
              htbs, plgs, acks, loss, send_errors, elapsed, cpu_seconds(),
              static_cast<double>(htbs + plgs) / elapsed);
  return 0;
}
