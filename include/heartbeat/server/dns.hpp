// The DNS worker: keeps <name>.<dyndomain> A/AAAA records of `dyn: true`
// hosts on their source addresses by running nsupdate_bin (argv, no shell;
// the update script on stdin, the TSIG key file as `-k`). The io thread (the
// only producer) enqueues address changes through a bounded spsc queue; a
// worker thread coalesces them, runs nsupdate with a timeout (net::run_process_blocking), skips
// addresses already in DNS, and retries failures with exponential backoff.
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "heartbeat/bus/events.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/core/spsc_queue.hpp"
#include "heartbeat/core/worker_thread.hpp"
#include "heartbeat/net/subprocess.hpp"

namespace heartbeat::server {

struct dns_options {
  std::string nsupdate_bin = "/usr/bin/nsupdate";  // nsupdate_bin
  std::vector<std::string> dyndomains;             // dyndomains: a record per domain
  std::string key_file;                            // nsupdate_key: TSIG key file (`nsupdate -k FILE`)
  std::string server;                              // nsupdate_server: empty = nsupdate finds the primary
  std::uint16_t port = 53;                         // nsupdate_port
  unsigned ttl = 60;                               // record TTL in seconds
  std::chrono::milliseconds timeout{10000};        // nsupdate_timeout: a run is killed after this
  std::chrono::milliseconds retry_base{5000};      // first retry delay, doubled per failure ...
  std::chrono::milliseconds retry_max{300000};     // ... up to this
  std::size_t queue_capacity = 4096;
};

// One record change: `address` empty deletes the name's records of `type`.
struct dns_change {
  std::string fqdn;  // without the trailing dot
  std::string zone;  // the dyndomain
  std::string type;  // "A" or "AAAA"
  std::string address;
};

struct dns_stats {
  std::uint64_t requested = 0;  // changes queued by the io thread
  std::uint64_t deduped = 0;    // requests skipped: the address was already requested or in DNS
  std::uint64_t dropped = 0;    // refused: queue full
  std::uint64_t invalid = 0;    // refused: bad host name or address, or no dyndomains
  std::uint64_t runs = 0;       // nsupdate executions
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;  // runs that failed or timed out (each is retried)
  std::size_t pending = 0;   // changes waiting to run or to be retried
  std::size_t queue_depth = 0;
};

// A DNS name (letters, digits, '-', labels joined by '.'), safe to put into an
// nsupdate script.
inline bool valid_dns_name(std::string_view n) {
  if (n.empty() || n.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    if (c == '.') {
      if (label == 0 || n[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && label == 0) || ++label > 63) return false;
  }
  return n.back() != '-';
}

// Canonical text and record type of an address; IPv4-mapped IPv6 becomes A.
inline bool canonical_address(std::string_view text, std::string& out, std::string& type) {
  std::string s(text);
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  unsigned char b[16];
  char buf[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET, s.c_str(), b) == 1) {
    ::inet_ntop(AF_INET, b, buf, sizeof buf);
    out = buf;
    type = "A";
    return true;
  }
  if (::inet_pton(AF_INET6, s.c_str(), b) == 1) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(mapped, mapped + 12, b)) {
      ::inet_ntop(AF_INET, b + 12, buf, sizeof buf);
      type = "A";
    } else {
      ::inet_ntop(AF_INET6, b, buf, sizeof buf);
      type = "AAAA";
    }
    out = buf;
    return true;
  }
  return false;
}

// The fully qualified name of `host` in `domain` (a host already named inside
// the domain keeps its name).
inline std::string dyn_fqdn(std::string_view host, std::string_view domain) {
  std::string d(domain);
  while (!d.empty() && d.back() == '.') d.pop_back();
  std::string h(host);
  if (h.size() > d.size() && h.compare(h.size() - d.size(), d.size(), d) == 0 &&
      h[h.size() - d.size() - 1] == '.')
    return h;
  return h + "." + d;
}

// The script nsupdate reads on stdin for one change.
inline std::string nsupdate_script(const dns_change& c, const dns_options& o) {
  std::string s;
  if (!o.server.empty()) s += "server " + o.server + " " + std::to_string(o.port) + "\n";
  if (!c.zone.empty()) s += "zone " + c.zone + ".\n";
  s += "update delete " + c.fqdn + ". " + c.type + "\n";
  if (!c.address.empty())
    s += "update add " + c.fqdn + ". " + std::to_string(o.ttl) + " " + c.type + " " + c.address + "\n";
  s += "send\n";
  return s;
}

// The nsupdate command line (the key file is named, never its content).
inline std::vector<std::string> nsupdate_argv(const dns_options& o) {
  std::vector<std::string> a{o.nsupdate_bin};
  auto secs = std::max<long long>(1, std::chrono::duration_cast<std::chrono::seconds>(o.timeout).count());
  a.push_back("-t");
  a.push_back(std::to_string(secs));
  if (!o.key_file.empty()) {
    a.push_back("-k");
    a.push_back(o.key_file);
  }
  return a;
}

class dns_worker {
 public:
  explicit dns_worker(dns_options o) : opt_(std::move(o)), q_(opt_.queue_capacity ? opt_.queue_capacity : 1) {
    std::vector<std::string> ok;
    for (auto d : opt_.dyndomains) {
      while (!d.empty() && d.back() == '.') d.pop_back();
      if (valid_dns_name(d))
        ok.push_back(d);
      else
        log::error("dns: ignoring dyndomain '", d, "': not a DNS name");
    }
    opt_.dyndomains = std::move(ok);
  }
  dns_worker(const dns_worker&) = delete;
  dns_worker& operator=(const dns_worker&) = delete;
  ~dns_worker() { stop(); }

  const dns_options& options() const noexcept { return opt_; }

  result<void> start() {
    if (!worker_.running()) worker_.start([this] { run(); });
    return {};
  }

  // Stops after the current run (which is killed); pending changes are dropped.
  void stop() {
    worker_.stop([this] { q_.wake(); });
  }

  // Keeps `host`'s record on `address` (io thread). Unchanged addresses are
  // skipped unless `force` (a manager's explicit request). False when refused.
  bool update(std::string_view host, std::string_view address, bool force = false) {
    std::string addr, type;
    if (!canonical_address(address, addr, type) || !valid_dns_name(host)) {
      invalid_.fetch_add(1, std::memory_order_relaxed);
      log::warn("dns: not updating '", host, "' to '", address, "': invalid host name or address");
      return false;
    }
    if (opt_.dyndomains.empty()) {
      invalid_.fetch_add(1, std::memory_order_relaxed);
      if (!warned_no_domains_) log::warn("dns: host ", host, " is dyn but no dyndomains are configured");
      warned_no_domains_ = true;
      return false;
    }
    std::string key = std::string(host) + " " + type;
    auto& last = requested_[key];
    if (!force && last == addr) {
      deduped_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    last = addr;
    return push(request{std::string(host), type, std::move(addr), force});
  }

  // Deletes the host's A and AAAA records (a host dropped through the API).
  bool remove(std::string_view host) {
    if (opt_.dyndomains.empty() || !valid_dns_name(host)) return false;
    bool ok = true;
    for (const char* type : {"A", "AAAA"}) {
      std::string key = std::string(host) + " " + type;
      auto it = requested_.find(key);
      if (it == requested_.end()) continue;  // never set by us
      requested_.erase(it);
      ok = push(request{std::string(host), type, {}, true}) && ok;
    }
    return ok;
  }

  // Re-sends every address of a host (/api/0/hosts entry shape), e.g. for
  // POST /api/0/hosts/{h}/dns.
  bool refresh(std::string_view host, const json::value& host_json) {
    bool any = false;
    if (const json::value* conns = host_json.find("connections"); conns && conns->is_array())
      for (const auto& c : conns->as_array()) {
        std::string a = c.string_or("address", "");
        if (!a.empty()) any = update(host, a, true) || any;
      }
    return any;
  }

  // The event-bus sink: dyn hosts' connection addresses, removal on `dropped`.
  bus::event_sink sink() {
    return [this](const bus::event& e) {
      if (e.kind == bus::event_kind::dropped) {
        remove(e.host);
        return;
      }
      if (e.kind != bus::event_kind::host || !e.data.bool_or("dyn", false)) return;
      if (const json::value* conns = e.data.find("connections"); conns && conns->is_array())
        for (const auto& c : conns->as_array()) {
          std::string a = c.string_or("address", "");
          if (!a.empty()) update(e.host, a);
        }
    };
  }

  dns_stats stats() const {
    dns_stats s;
    s.requested = requested_n_.load(std::memory_order_relaxed);
    s.deduped = deduped_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.invalid = invalid_.load(std::memory_order_relaxed);
    s.runs = runs_.load(std::memory_order_relaxed);
    s.succeeded = succeeded_.load(std::memory_order_relaxed);
    s.failed = failed_.load(std::memory_order_relaxed);
    s.pending = pending_n_.load(std::memory_order_relaxed);
    s.queue_depth = q_.size();
    return s;
  }

 private:
  using clock = std::chrono::steady_clock;
  struct request {
    std::string host;
    std::string type;
    std::string address;  // empty: delete
    bool force = false;
  };
  struct job {
    dns_change change;
    unsigned attempts = 0;
    clock::time_point next_at{};
  };

  bool push(request&& r) {
    if (!q_.push(std::move(r))) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      log::warn("dns: queue full, update dropped");
      return false;
    }
    requested_n_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // Worker thread: one job per (fqdn, type); a newer address replaces a
  // pending or failing one.
  void accept(request&& r) {
    for (const auto& d : opt_.dyndomains) {
      dns_change c{dyn_fqdn(r.host, d), d, r.type, r.address};
      std::string key = c.fqdn + " " + c.type;
      auto ap = applied_.find(key);
      if (!r.force && pending_.find(key) == pending_.end() && ap != applied_.end() &&
          ap->second == c.address) {
        deduped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      pending_[key] = job{std::move(c), 0, clock::now()};
    }
    pending_n_.store(pending_.size(), std::memory_order_relaxed);
  }

  void run_job(const std::string& key, job& j) {
    runs_.fetch_add(1, std::memory_order_relaxed);
    net::process_options o;
    o.timeout = opt_.timeout;
    o.input = nsupdate_script(j.change, opt_);
    o.merge_stderr = true;  // nsupdate's complaints and answers, in their order
    o.cancel = &worker_.stop_flag();
    auto r = net::run_process_blocking(nsupdate_argv(opt_), std::move(o));
    std::string what = j.change.fqdn + " " + j.change.type + " " +
                       (j.change.address.empty() ? "(delete)" : j.change.address);
    if (r.spawned && !r.timed_out && r.rc == 0) {
      succeeded_.fetch_add(1, std::memory_order_relaxed);
      log::info("dns: updated ", what);
      applied_[key] = j.change.address;
      pending_.erase(key);
      return;
    }
    if (worker_.stopping()) return;
    failed_.fetch_add(1, std::memory_order_relaxed);
    ++j.attempts;
    auto delay = opt_.retry_base;
    for (unsigned i = 1; i < j.attempts && delay < opt_.retry_max; ++i) delay *= 2;
    delay = std::min(delay, opt_.retry_max);
    j.next_at = clock::now() + delay;
    std::string why;
    if (!r.spawned)
      why = "cannot run " + r.err;
    else if (r.timed_out)
      why = "timed out after " + std::to_string(opt_.timeout.count()) + " ms";
    else
      why = "exit status " + std::to_string(r.rc < 0 ? -1 : r.rc);  // -1: killed by a signal
    std::string out = r.spawned ? std::move(r.out) : std::string();
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    for (auto& ch : out)
      if (ch == '\n') ch = ' ';
    if (out.size() > 300) out.resize(300);
    log::warn("dns: nsupdate for ", what, " failed (", why, ")", out.empty() ? "" : ": ", out, "; retry ",
              j.attempts, " in ", static_cast<long long>(delay.count() / 1000), " s");
  }

  void run() {
    for (;;) {
      bool stopping = worker_.stopping();
      while (auto r = q_.pop()) accept(std::move(*r));
      if (stopping) break;
      auto now = clock::now();
      std::string due_key;
      clock::time_point earliest = now + std::chrono::seconds(1);
      for (auto& [key, j] : pending_) {
        if (j.next_at <= now && due_key.empty()) due_key = key;
        earliest = std::min(earliest, j.next_at);
      }
      if (!due_key.empty()) {
        run_job(due_key, pending_[due_key]);
        pending_n_.store(pending_.size(), std::memory_order_relaxed);
        continue;
      }
      q_.wait(std::max(std::chrono::milliseconds(1),
                       std::chrono::duration_cast<std::chrono::milliseconds>(earliest - now)));
    }
    if (!pending_.empty()) log::warn("dns: ", pending_.size(), " pending update(s) dropped at shutdown");
  }

  dns_options opt_;
  spsc_queue<request> q_;
  worker_thread worker_;
  // io thread
  std::unordered_map<std::string, std::string> requested_;  // "host type" -> address last queued
  bool warned_no_domains_ = false;
  // worker thread
  std::map<std::string, job> pending_;                    // "fqdn type" -> change
  std::unordered_map<std::string, std::string> applied_;  // "fqdn type" -> address in DNS
  std::atomic<std::uint64_t> requested_n_{0}, deduped_{0}, dropped_{0}, invalid_{0}, runs_{0}, succeeded_{0},
      failed_{0};
  std::atomic<std::size_t> pending_n_{0};
};

}  // namespace heartbeat::server
