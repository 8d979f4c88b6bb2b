// hbc_mini put together: config (~/.hbc.json, hbc's keys) checked before anything
// runs, optional daemonizing with syslog, one blocking POSIX UDP connection per
// address family and server (several hbd nodes each get everything; a CMD is
// answered to the node that sent it), and one poll loop that sends HTB at
// absolute deadlines, runs the plugins, reads replies (ACK -> rtt and
// request_update, CMD/UPD from an authenticated server -> allow-listed argv) and
// the children's pipes; SIGHUP reads the config again, readiness goes to
// systemd. The codec is the builtin policy: no zlib, built-in HMAC-SHA256.
// Single-threaded.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#ifndef HB_CONFIG_NO_YAML
#define HB_CONFIG_NO_YAML 1
#endif
#include "heartbeat/client/config.hpp"
#include "heartbeat/client/outgoing.hpp"
#include "heartbeat/client/startup.hpp"
#include "heartbeat/config/file.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/daemon.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/sd_notify.hpp"
#include "heartbeat/core/version.hpp"
#include "heartbeat/mini/plugins.hpp"
#include "heartbeat/mini/process.hpp"
#include "heartbeat/mini/resolve.hpp"
#include "heartbeat/protocol/builtin_policy.hpp"

namespace heartbeat::mini {

// hbc's options, and where the resolver reads hosts(5) and resolv.conf(5).
struct run_options : client::run_options {
  resolver_files files;  // tests point these elsewhere
};

using client::exit_ok, client::exit_runtime, client::exit_usage;

// Loads and validates the configuration and the plugin sections; prints every
// diagnostic as `path: message`. nullopt on any error.
inline std::optional<client::client_config> load_config(const run_options& o) {
  return client::load_config_file(
      o.config_path, ".hbc.json", "hbc_mini",
      [](const json::value& root, const client::client_config& cfg, config::diagnostics& d) {
        if (root.contains("serve")) d.warn("serve", "is not available in hbc_mini; ignored");
        (void)build_plugins(cfg, d);
      });
}

// Detached (core/daemon.hpp), umask 022, logging to syslog (LOG_DAEMON).
inline bool daemonize() {
  if (!detach_from_terminal()) return false;
  ::umask(022);
  log::use_syslog("hbc_mini");
  return true;
}

namespace detail {
inline volatile sig_atomic_t& stop_signal() {
  static volatile sig_atomic_t s = 0;
  return s;
}
inline void on_signal(int sig) { stop_signal() = sig; }
inline volatile sig_atomic_t& hup_signal() {
  static volatile sig_atomic_t s = 0;
  return s;
}
inline void on_hup(int) { hup_signal() = 1; }
}  // namespace detail

class app {
 public:
  using policy = protocol::builtin_policy;
  static constexpr unsigned ipv6_startup_attempts = 3;
  static constexpr int refused_rc = 127;

  app(client::client_config cfg, run_options o) : cfg_(std::move(cfg)), opts_(std::move(o)) {
    // Two connections per server (IPv4, IPv6), numbered 2 * server + family.
    conns_.resize(2 * opts_.servers.size());
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      conns_[i].v4 = i % 2 == 0;
      conns_[i].server = i / 2;
    }
    protocol::decode_options d;
    d.require_auth = !cfg_.key.empty();  // a keyed client only believes authenticated replies
    d.replay_capacity = 4096;
    dec_.set_options(d);
    if (auto t = readers::read_file({}, "/proc/stat")) {
      auto s = readers::parse_proc_stat(*t);
      if (s.boot_time) boot_time_ = static_cast<double>(s.boot_time);
    }
  }
  ~app() {
    for (auto& c : conns_) close(c);
  }

  int run() {
    ::signal(SIGPIPE, SIG_IGN);
    if (opts_.message || opts_.boot_only) return run_one_shot();
    config::diagnostics d;
    plugins_ = build_plugins(cfg_, d);
    struct sigaction sa {};
    sa.sa_handler = detail::on_signal;
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    sa.sa_handler = detail::on_hup;
    ::sigaction(SIGHUP, &sa, nullptr);
    log::info("hbc_mini ", version, ": ", cfg_.name, " -> ", servers_text(), " port ", cfg_.hb_port,
              ", every ", cfg_.interval, " s", cfg_.key.empty() ? "" : ", authenticated", ", ",
              plugins_.size(), " plugins");
    double start = mono_now();
    start_plugins();
    double next_htb = start;
    bool booted = false;
    std::vector<pollfd> fds;
    sd::notify("READY=1");
    while (!detail::stop_signal()) {
      if (detail::hup_signal()) {
        detail::hup_signal() = 0;
        reload();
      }
      double now = mono_now();
      if (now >= next_htb) {
        tick();
        next_htb += cfg_.interval;
        if (next_htb <= now) next_htb = now + cfg_.interval;
        if (opts_.boot_messages && !booted) booted = send_message("boot", protocol::msg_event::boot);
      }
      run_due_plugins(now);
      double wake = next_htb;
      for (const auto& p : plugins_)
        if (!p->info && !p->busy) wake = std::min(wake, p->next_due);
      wake = std::min(wake, now + children_.wait_hint(now));
      fds.clear();
      for (const auto& c : conns_)
        if (c.fd >= 0) fds.push_back({c.fd, POLLIN, 0});
      std::size_t nconn = fds.size();
      children_.add_pollfds(fds);
      int ms = static_cast<int>(std::ceil(std::max(0.0, wake - mono_now()) * 1000));
      int n = ::poll(fds.data(), fds.size(), ms);
      if (n < 0 && errno != EINTR) {
        log::error("hbc_mini: poll: ", std::strerror(errno));
        return exit_runtime;
      }
      for (std::size_t i = 0; n > 0 && i < nconn; ++i)
        if (fds[i].revents)
          for (auto& c : conns_)
            if (c.fd == fds[i].fd) receive(c);
      children_.poll_done();
    }
    log::info("hbc_mini: signal ", static_cast<int>(detail::stop_signal()), ", shutting down");
    sd::notify("STOPPING=1");
    if (opts_.boot_messages) send_message("shutdown", protocol::msg_event::shutdown);
    children_.kill_all();
    return exit_ok;
  }

 private:
  struct connection {
    bool v4 = true;
    std::size_t server = 0;  // index into run_options::servers
    int fd = -1;
    address ep;
    bool dropped = false;
    bool ever_ok = false;
    unsigned failures = 0;
    std::uint64_t seq = 0, sent_seq = 0;
    double sent_at = 0;
    bool awaiting_ack = false;
    std::optional<double> rtt_ms;
    double last_ack = 0;
    std::uint64_t acks = 0;
  };
  struct done_command {
    int rc;
    std::string output;
    double at;
  };

  client::client_config cfg_;
  run_options opts_;
  std::vector<connection> conns_;  // sized once: replies find theirs by address
  protocol::decoder<policy> dec_;
  protocol::message in_;
  std::string buf_;
  std::vector<std::uint8_t> rbuf_ = std::vector<std::uint8_t>(65536);
  child_set children_;
  std::vector<std::unique_ptr<plugin>> plugins_;
  bool info_pending_ = false;
  std::optional<double> boot_time_;
  std::set<std::string> running_;
  std::map<std::string, done_command> done_;

  const char* fam(const connection& c) const { return c.v4 ? "ipv4" : "ipv6"; }

  std::string servers_text() const {
    std::string out;
    for (const auto& s : opts_.servers) out += (out.empty() ? "" : ", ") + s;
    return out;
  }

  protocol::encode_options enc() const {
    protocol::encode_options o;
    o.key_id = cfg_.name;
    o.key = cfg_.key;
    o.compress_over = 0;
    return o;
  }

  int run_one_shot() {
    open_all();
    bool sent = false;
    if (opts_.boot_only) sent = send_message("boot", protocol::msg_event::boot);
    if (opts_.message)
      sent = send_message(*opts_.message, protocol::msg_event::message) && (sent || !opts_.boot_only);
    if (!sent) log::error("hbc_mini: could not send the message to ", servers_text());
    return sent ? exit_ok : exit_runtime;
  }

  // Connections ------------------------------------------------------------------
  void open_all() {
    for (std::size_t s = 0; s < opts_.servers.size(); ++s) open_server(s);
  }

  void open_server(std::size_t s) {
    const std::string& server = opts_.servers[s];
    bool need = false;
    for (auto& c : conns_)
      if (c.server == s && !c.dropped && c.fd < 0) need = true;
    if (!need) return;
    auto addrs = resolve(server, static_cast<std::uint16_t>(cfg_.hb_port), opts_.files);
    if (addrs.empty()) log::warn("hbc_mini: cannot resolve ", server);
    for (auto& c : conns_) {
      if (c.server != s || c.dropped || c.fd >= 0) continue;
      const address* ep = nullptr;
      for (const auto& a : addrs)
        if (a.is_v4() == c.v4) {
          ep = &a;
          break;
        }
      if (!ep) {
        if (!addrs.empty())
          fail(c, std::string("no ") + (c.v4 ? "IPv4" : "IPv6") + " address for " + server);
        else
          fail(c, "cannot resolve " + server);
        continue;
      }
      int fd = ::socket(ep->family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0 || ::connect(fd, ep->ptr(), ep->len) != 0) {
        std::string why = std::strerror(errno);
        if (fd >= 0) ::close(fd);
        fail(c, "cannot open " + ep->text() + ": " + why);
        continue;
      }
      c.fd = fd;
      c.ep = *ep;
      c.awaiting_ack = false;
      log::info("hbc_mini: ", fam(c), " connection to ", ep->text(), " port ", ep->port());
    }
  }

  void close(connection& c) {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    c.awaiting_ack = false;
  }

  // As hbc: counts failed attempts; IPv6 that never answered is dropped after 3;
  // a connection that keeps failing is closed so the next heartbeat resolves again.
  void fail(connection& c, const std::string& why) {
    ++c.failures;
    if (c.failures == 1 || c.failures % 10 == 0)
      log::warn("hbc_mini: ", fam(c), ": ", why, " (", c.failures, " in a row)");
    if (!c.v4 && !c.ever_ok && c.failures >= ipv6_startup_attempts) {
      log::info("hbc_mini: ipv6: no answer after ", c.failures, " attempts, dropping the IPv6 connection");
      close(c);
      c.dropped = true;
      return;
    }
    if (c.failures >= 3) close(c);
  }

  bool send_on(connection& c) {
    ssize_t n = ::send(c.fd, buf_.data(), buf_.size(), 0);
    if (n < 0 && errno == ECONNREFUSED) n = ::send(c.fd, buf_.data(), buf_.size(), 0);  // stale ICMP error
    if (n < 0) {
      fail(c, std::string("send failed: ") + std::strerror(errno));
      return false;
    }
    return true;
  }

  // To every server, on its connection that answered last; before any answer, its first open
  // one (IPv4 first). True when any server got it.
  bool send_preferred() {
    bool any = false;
    for (std::size_t s = 0; s < opts_.servers.size(); ++s) any = send_preferred(s) || any;
    return any;
  }
  bool send_preferred(std::size_t s) {
    connection* best = nullptr;
    for (auto& c : conns_) {
      if (c.server != s || c.fd < 0) continue;
      if (!best || (c.acks && c.last_ack > best->last_ack)) best = &c;
    }
    if (!best) {
      log::warn("hbc_mini: no connection to ", opts_.servers[s], "; datagram not sent");
      return false;
    }
    return send_on(*best);
  }

  void tick() {
    for (auto& c : conns_)
      if (c.fd >= 0 && c.awaiting_ack) fail(c, "no ACK for HTB " + std::to_string(c.sent_seq));
    open_all();
    for (auto& c : conns_) {
      if (c.fd < 0) continue;
      auto h = client::make_heartbeat(cfg_, ++c.seq, clock::wall_now(), c.rtt_ms,
                                      std::string("hbc_mini/") + version, boot_time_);
      protocol::encode<policy>(h, buf_, enc());
      if (!send_on(c)) continue;
      c.sent_seq = h.seq;
      c.sent_at = mono_now();
      c.awaiting_ack = true;
    }
  }

  bool send_message(std::string_view text, protocol::msg_event ev) {
    protocol::encode<policy>(client::make_message(cfg_.name, text, ev, clock::wall_now()), buf_, enc());
    return send_preferred();
  }

  void send_result(std::size_t conn, const std::string& cmd_id, int rc, const std::string& output) {
    protocol::encode<policy>(client::make_result(cfg_.name, cmd_id, rc, output, clock::wall_now()), buf_,
                             enc());
    if (conn >= conns_.size()) return;
    if (conns_[conn].fd >= 0 && send_on(conns_[conn])) return;
    send_preferred(conns_[conn].server);  // the node that sent the CMD, on its other family
  }

  void send_plugin(const plugin& p, const std::string& data_json) {
    protocol::plugin_msg m;
    m.name = cfg_.name;
    m.plugin = p.name;
    m.kind = p.info ? "info" : "monitor";
    m.ts = clock::wall_now();
    if (!p.info) m.interval = p.interval;
    m.data_json = data_json;
    protocol::encode<policy>(m, buf_, enc());
    if (buf_.size() > cfg_.max_datagram) {
      log::warn(p.name, ": data is ", buf_.size(), " bytes, over the ", cfg_.max_datagram,
                "-byte datagram limit; not sent");
      return;
    }
    if (send_preferred()) log::debug(p.name, ": sent ", buf_.size(), " bytes");
  }

  // Replies ------------------------------------------------------------------------
  void receive(connection& c) {
    for (;;) {
      ssize_t n = ::recv(c.fd, rbuf_.data(), rbuf_.size(), 0);
      if (n < 0) return;  // EAGAIN, or an ICMP error (the no-ACK rule counts those)
      handle(c, std::span<const std::uint8_t>(rbuf_.data(), static_cast<std::size_t>(n)));
      if (c.fd < 0) return;
    }
  }

  void handle(connection& c, std::span<const std::uint8_t> d) {
    if (!client::decode_reply(dec_, cfg_, d, in_, "hbc_mini")) return;
    std::size_t idx = static_cast<std::size_t>(&c - conns_.data());
    switch (in_.type) {
      case protocol::msg_type::ack: on_ack(c, in_.ack); break;
      case protocol::msg_type::cmd:
        if (client::command_allowed(in_, cfg_)) on_command(idx, in_.cmd);
        break;
      case protocol::msg_type::upd:
        if (client::command_allowed(in_, cfg_)) on_upgrade(idx, in_.upd);
        break;
      case protocol::msg_type::err: log::warn("hbc_mini: server says: ", in_.err.error); break;
      default: break;
    }
  }

  void on_ack(connection& c, const protocol::ack_msg& a) {
    double now = mono_now();
    if (c.awaiting_ack && a.seq == c.sent_seq) {
      c.rtt_ms = (now - c.sent_at) * 1000.0;
      c.awaiting_ack = false;
    }
    if (!c.ever_ok) log::info("hbc_mini: ", fam(c), ": server answered");
    c.ever_ok = true;
    c.failures = 0;
    c.last_ack = now;
    ++c.acks;
    if (a.request_update) {
      log::info("hbc_mini: server asked for InfoPlugin data (request_update)");
      info_pending_ = true;
    }
  }

  // Plugins ------------------------------------------------------------------------
  // Primes the readers and schedules the first collects: monitors one second after the priming
  // samples, so that their first rates span at least a second (docs/MINI.md).
  void start_plugins() {
    for (auto& p : plugins_) prime(*p);
    double primed = mono_now();
    for (auto& p : plugins_) {
      p->next_due = primed + (p->info ? 0 : 1.0);
      info_pending_ = true;
    }
  }

  // SIGHUP: the configuration file read again; one with errors changes nothing. Plugin runs and
  // commands in progress are stopped (the server repeats a command until it is answered).
  void reload() {
    auto next = load_config(opts_);
    if (!next) {
      log::error("hbc_mini: SIGHUP: the configuration has errors; keeping the running one");
      return;
    }
    sd::notify("RELOADING=1");
    children_.kill_all();
    running_.clear();
    if (next->hb_port != cfg_.hb_port)
      for (auto& c : conns_) close(c);
    cfg_ = std::move(*next);
    protocol::decode_options d = dec_.options();
    d.require_auth = !cfg_.key.empty();
    dec_.set_options(d);
    config::diagnostics diag;
    plugins_ = build_plugins(cfg_, diag);
    start_plugins();
    log::info("hbc_mini: configuration reloaded: ", cfg_.name, ", every ", cfg_.interval, " s, ",
              plugins_.size(), " plugins");
    sd::notify("READY=1");
  }

  void run_due_plugins(double now) {
    bool info = info_pending_;
    info_pending_ = false;
    for (auto& up : plugins_) {
      plugin& p = *up;
      if (p.busy) continue;
      if (p.info ? !info : now < p.next_due) continue;
      if (!p.info) {
        p.next_due += p.interval;  // absolute deadlines
        if (p.next_due <= now) p.next_due = now + p.interval;
      }
      collect(p, children_, [this](plugin& pl, result<json::value> r) {
        if (!r) {
          log::warn(pl.name, ": collect failed: ", r.err().message);
          return;
        }
        send_plugin(pl, r->dump());
      });
    }
  }

  // Commands (the server's CMD and UPD; the allow-list is the config) --------------
  static std::string result_output(const process_result& r) {
    std::string s = r.out;
    if (!r.err.empty()) {
      if (!s.empty() && s.back() != '\n') s.push_back('\n');
      s += r.err;
    }
    if (!r.spawned) s = r.error;
    if (r.timed_out) s += (s.empty() ? "" : "\n") + std::string("killed: timed out");
    return readers::valid_utf8_prefix(s, protocol::max_output_bytes);
  }

  bool answer_again(std::size_t conn, const std::string& id) {
    if (running_.count(id)) return true;  // the RES follows when it ends
    auto it = done_.find(id);
    if (it == done_.end()) return false;
    send_result(conn, id, it->second.rc, it->second.output);
    return true;
  }

  void finish(std::size_t conn, const std::string& id, int rc, std::string output) {
    double now = mono_now();
    std::erase_if(done_, [&](const auto& kv) { return now - kv.second.at > 3600; });
    output = readers::valid_utf8_prefix(output, protocol::max_output_bytes);
    send_result(conn, id, rc, output);
    done_[id] = done_command{rc, std::move(output), now};
  }

  void run_command(std::size_t conn, const std::string& id, const std::vector<std::string>& argv,
                   double timeout, std::vector<std::string> env) {
    running_.insert(id);
    children_.spawn(argv, timeout, 16 * 1024, env, [this, conn, id](process_result&& r) {
      running_.erase(id);
      int rc = r.timed_out ? -9 : (r.spawned ? r.rc : refused_rc);
      log::info("hbc_mini: command ", id, " finished with ", rc);
      finish(conn, id, rc, result_output(r));
    });
  }

  void on_command(std::size_t conn, const protocol::command_msg& cmd) {
    if (answer_again(conn, cmd.cmd_id)) return;
    auto allowed = client::allow_command(cfg_, cmd);
    if (!allowed) {
      if (allowed.err().code == "not_allowed")
        log::warn("hbc_mini: refused ", cmd.cmd_id, ": \"", cmd.command, "\" is not allow-listed");
      finish(conn, cmd.cmd_id, refused_rc, allowed.err().message);
      return;
    }
    log::info("hbc_mini: running ", cmd.cmd_id, ": ", cmd.command);
    run_command(conn, cmd.cmd_id, allowed->argv, allowed->spec->timeout, {});
  }

  void on_upgrade(std::size_t conn, const protocol::upgrade_msg& upd) {
    if (answer_again(conn, upd.cmd_id)) return;
    if (cfg_.upgrade_command.empty()) {
      finish(conn, upd.cmd_id, refused_rc, "refused: no upgrade_command configured");
      return;
    }
    log::info("hbc_mini: upgrade ", upd.cmd_id, upd.version.empty() ? "" : " to ", upd.version);
    std::vector<std::string> env;
    if (!upd.version.empty()) env.push_back("HB_UPGRADE_VERSION=" + upd.version);
    run_command(conn, upd.cmd_id, cfg_.upgrade_command, cfg_.upgrade_timeout, std::move(env));
  }
};

// The whole program after the command line: config, daemonize, run.
inline int run(const run_options& o) {
  sd::take_socket();
  if (o.verbose) log::set_level(log::level::debug);
  auto cfg = load_config(o);
  if (!cfg) return exit_usage;
  if (o.daemonize && !o.message && !o.boot_only && !daemonize()) {
    log::error("hbc_mini: cannot daemonize: ", std::strerror(errno));
    return exit_runtime;
  }
  app a(std::move(*cfg), o);
  return a.run();
}

}  // namespace heartbeat::mini
