// tool_loadgen: simulates N hosts sending HTB (and PLG at a lower rate) to a
// UDP server (hbd or tool_echo) on loopback, counts the ACKs and measures
// latency from the echoed `ts`. One thread; plain POSIX sockets.
//
//   tool_loadgen --port P [--hosts N] [--duration S] [--window W]   closed loop: at most W in flight (peak
//   rate) tool_loadgen --port P --rate R [--hosts N] [--duration S]       open loop at R datagrams/s (loss at
//   a rate) tool_loadgen --port P --hosts N --once [--plugins K]            every host sends one HTB and K
//   PLGs, paced common: [--sockets S] source sockets (host i uses socket i % S), [--plg-every E] a PLG every
//   E HTBs per host,
//           [--prefix NAME] host name prefix, [--leaves L] numeric leaves per PLG (at least the 5 of the
//           default body), with --once: [--rate R] paces the datagrams (HTB + PLGs) at R per second
// Prints one line of key=value figures: sent, acks, rate, loss, p50_us, p99_us.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tool_util.hpp"

namespace {

double now_s() { return tool::wall(); }

struct options {
  int port = 50003;
  long hosts = 1000;
  double duration = 5;
  long window = 256;
  double rate = 0;  // 0: closed loop
  bool once = false;
  int plugins = 9;
  long plg_every = 10;  // one PLG per this many HTBs of a host (0: none)
  int sockets = 16;
  std::string prefix = "sim";
  int leaves = 5;  // numeric leaves of a PLG's data (5: the small body below)
};

// A plugin body like a small monitor plugin's (about 200 bytes), with `leaves` - 5 more numeric
// fields ("x6", "x7", ...) when asked for a bigger plugin.
int format_plg(char* out, std::size_t cap, const options& o, long host, int plugin, double ts) {
  int n = std::snprintf(
      out, cap,
      "{\"ID\":\"PLG\",\"name\":\"%s%06ld\",\"plugin\":\"plugin_%d\",\"kind\":\"monitor\",\"ts\":%.6f,"
      "\"data\":{\"cpu_percent\":%.1f,\"load_1min\":%.2f,\"mem\":{\"percent\":%.1f,\"available_mb\":%ld},"
      "\"disk\":{\"/\":{\"percent\":%.1f}}",
      o.prefix.c_str(), host, plugin, ts, std::fmod(host * 7.3, 100.0), (host % 400) / 100.0,
      std::fmod(host * 3.1, 100.0), 1000 + host % 5000, std::fmod(host * 1.7, 100.0));
  for (int i = 6; i <= o.leaves && n > 0 && static_cast<std::size_t>(n) + 32 < cap; ++i)
    n += std::snprintf(out + n, cap - static_cast<std::size_t>(n), ",\"x%d\":%ld", i,
                       (host * i + plugin) % 100000);
  if (n > 0 && static_cast<std::size_t>(n) + 3 < cap)
    n += std::snprintf(out + n, cap - static_cast<std::size_t>(n), "}}");
  return n;
}

int format_htb(char* out, std::size_t cap, const options& o, long host, unsigned long long seq, double ts) {
  return std::snprintf(
      out, cap,
      "{\"ID\":\"HTB\",\"name\":\"%s%06ld\",\"ver\":1,\"seq\":%llu,\"interval\":30,\"ts\":%.6f,\"rtt\":0.4,"
      "\"agent\":\"loadgen/1\"}",
      o.prefix.c_str(), host, seq, ts);
}

// Finds "ts": in an ACK and returns it (0 when absent).
double ack_ts(const char* p, std::size_t n) {
  static const char key[] = "\"ts\":";
  for (std::size_t i = 0; i + sizeof key - 1 < n; ++i) {
    if (std::memcmp(p + i, key, sizeof key - 1) == 0) return std::strtod(p + i + sizeof key - 1, nullptr);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return tool::arg_value("tool_loadgen", argc, argv, i); };
    if (a == "--port")
      o.port = std::atoi(next());
    else if (a == "--hosts")
      o.hosts = std::atol(next());
    else if (a == "--duration")
      o.duration = std::atof(next());
    else if (a == "--window")
      o.window = std::atol(next());
    else if (a == "--rate")
      o.rate = std::atof(next());
    else if (a == "--once")
      o.once = true;
    else if (a == "--plugins")
      o.plugins = std::atoi(next());
    else if (a == "--plg-every")
      o.plg_every = std::atol(next());
    else if (a == "--sockets")
      o.sockets = std::atoi(next());
    else if (a == "--prefix")
      o.prefix = next();
    else if (a == "--leaves")
      o.leaves = std::atoi(next());
    else {
      std::fprintf(stderr, "tool_loadgen: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (o.hosts < 1 || o.sockets < 1) return 2;

  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<std::uint16_t>(o.port));
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fds;
  std::vector<pollfd> pfds;
  for (int i = 0; i < o.sockets; ++i) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int buf = 4 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
      std::perror("tool_loadgen: connect");
      return 1;
    }
    fds.push_back(fd);
    pfds.push_back({fd, POLLIN, 0});
  }

  std::vector<unsigned long long> seq(static_cast<std::size_t>(o.hosts), 0);
  std::vector<double> lat;
  lat.reserve(1 << 20);
  unsigned long long sent = 0, acks = 0, plgs = 0;
  unsigned long long forgiven = 0;  // closed loop: replies given up on (lost), so the window refills
  long next_host = 0;
  char buf[2048];
  constexpr unsigned rbatch = 64;
  static char rbufs[rbatch][2048];
  mmsghdr rh[rbatch]{};
  iovec riov[rbatch];
  // Closed loop sends in batches: per socket, consecutive hosts of that socket, one sendmmsg.
  static char tbufs[rbatch][1024];
  mmsghdr th[rbatch]{};
  iovec tiov[rbatch];
  std::vector<long> cursor(static_cast<std::size_t>(o.sockets));
  for (int k = 0; k < o.sockets; ++k) cursor[static_cast<std::size_t>(k)] = k;
  int next_sock = 0;

  auto drain = [&](int timeout_ms) {
    int r = ::poll(pfds.data(), pfds.size(), timeout_ms);
    if (r <= 0) return;
    double t = now_s();
    for (auto& p : pfds) {
      if (!(p.revents & POLLIN)) continue;
      for (;;) {
        for (unsigned i = 0; i < rbatch; ++i) {
          riov[i] = {rbufs[i], sizeof rbufs[i]};
          rh[i].msg_hdr = {};
          rh[i].msg_hdr.msg_iov = &riov[i];
          rh[i].msg_hdr.msg_iovlen = 1;
        }
        int k = ::recvmmsg(p.fd, rh, rbatch, MSG_DONTWAIT, nullptr);
        if (k <= 0) break;
        for (int j = 0; j < k; ++j) {
          const char* rb = rbufs[j];
          std::size_t n = rh[j].msg_len;
          if (n > 10 && std::memcmp(rb, "{\"ID\":\"ACK\"", 11) == 0) {
            ++acks;
            double ts = ack_ts(rb, n);  // tool_echo's reply carries none
            if (ts > 0 && lat.size() < lat.capacity()) lat.push_back(t - ts);
          }
        }
      }
    }
  };

  // One datagram from the next host in turn: an HTB, or now and then a PLG.
  auto send_batch = [&](unsigned count) {
    int k = next_sock;
    next_sock = (next_sock + 1) % o.sockets;
    long& c = cursor[static_cast<std::size_t>(k)];
    double ts = now_s();
    unsigned m = 0;
    for (; m < count && m < rbatch; ++m) {
      long h = c;
      c += o.sockets;
      if (c >= o.hosts) c = k;
      int n = format_htb(tbufs[m], sizeof tbufs[m], o, h, ++seq[static_cast<std::size_t>(h)], ts);
      tiov[m] = {tbufs[m], static_cast<std::size_t>(n)};
      th[m].msg_hdr = {};
      th[m].msg_hdr.msg_iov = &tiov[m];
      th[m].msg_hdr.msg_iovlen = 1;
    }
    unsigned done = 0;
    while (done < m) {
      int r = ::sendmmsg(fds[static_cast<std::size_t>(k)], th + done, m - done, 0);
      if (r <= 0) {
        if (errno != EAGAIN && errno != ENOBUFS) break;
        drain(1);
        continue;
      }
      done += static_cast<unsigned>(r);
    }
    sent += done;
  };

  auto send_one = [&]() {
    long h = next_host;
    next_host = (next_host + 1) % o.hosts;
    int fd = fds[static_cast<std::size_t>(h % o.sockets)];
    double ts = now_s();
    unsigned long long s = ++seq[static_cast<std::size_t>(h)];
    int n;
    if (o.plg_every > 0 && s % static_cast<unsigned long long>(o.plg_every) == 0) {
      n = format_plg(buf, sizeof buf, o, h, static_cast<int>(s / o.plg_every) % std::max(1, o.plugins), ts);
      ++plgs;
    } else {
      n = format_htb(buf, sizeof buf, o, h, s, ts);
      ++sent;
    }
    while (::send(fd, buf, static_cast<std::size_t>(n), 0) < 0) {
      if (errno != EAGAIN && errno != ENOBUFS) break;
      drain(1);
    }
  };

  double start = now_s();
  if (o.once) {
    // Every host: one HTB then `plugins` PLGs, paced with a window so the server keeps up.
    for (long h = 0; h < o.hosts; ++h) {
      int fd = fds[static_cast<std::size_t>(h % o.sockets)];
      double ts = now_s();
      int n = format_htb(buf, sizeof buf, o, h, ++seq[static_cast<std::size_t>(h)], ts);
      ::send(fd, buf, static_cast<std::size_t>(n), 0);
      ++sent;
      for (int p = 0; p < o.plugins; ++p) {
        n = format_plg(buf, sizeof buf, o, h, p, ts);
        ::send(fd, buf, static_cast<std::size_t>(n), 0);
        ++plgs;
      }
      if (o.rate > 0) {  // paced: the datagrams so far are due at (sent + plgs) / rate
        double due = start + static_cast<double>(sent + plgs) / o.rate;
        while (now_s() < due) drain(std::max(0, static_cast<int>((due - now_s()) * 1000)));
      }
      while (static_cast<long long>(sent - acks) > o.window) {
        unsigned long long before = acks;
        drain(100);
        if (acks == before) break;  // lost: go on
      }
    }
    double deadline = now_s() + 2;
    while (acks < sent && now_s() < deadline) drain(50);
  } else if (o.rate <= 0) {
    double end = start + o.duration;
    double last_progress = now_s();
    while (now_s() < end) {
      while (static_cast<long long>(sent - acks - forgiven) < o.window) {
        long long room = o.window - static_cast<long long>(sent - acks - forgiven);
        if (o.plg_every > 0)
          send_one();
        else
          send_batch(static_cast<unsigned>(std::min<long long>(room, 32)));
      }
      unsigned long long before = acks;
      drain(10);
      if (acks != before)
        last_progress = now_s();
      else if (now_s() - last_progress > 0.2) {  // replies lost: give up on them, refill the window
        forgiven = sent - acks;
        last_progress = now_s();
      }
    }
    double deadline = now_s() + 0.5;
    while (acks < sent && now_s() < deadline) drain(20);
  } else {
    double end = start + o.duration;
    double per_tick = o.rate / 1000.0;  // datagrams per millisecond
    double credit = 0;
    double t_prev = now_s();
    while (now_s() < end) {
      double t = now_s();
      credit += (t - t_prev) * 1000.0 * per_tick;
      t_prev = t;
      while (credit >= 1) {
        send_one();
        credit -= 1;
      }
      drain(0);
      ::usleep(200);
    }
    double deadline = now_s() + 1.0;
    while (acks < sent && now_s() < deadline) drain(20);
  }
  double elapsed = now_s() - start;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0.0 : lat[static_cast<std::size_t>(p * (lat.size() - 1))] * 1e6;
  };
  double loss = sent ? 1.0 - static_cast<double>(std::min(acks, sent)) / static_cast<double>(sent) : 0;
  std::printf("sent=%llu plg=%llu acks=%llu elapsed=%.3f rate=%.0f loss=%.6f p50_us=%.1f p99_us=%.1f\n", sent,
              plgs, acks, elapsed, static_cast<double>(acks) / elapsed, loss, pct(0.50), pct(0.99));
  return 0;
}
