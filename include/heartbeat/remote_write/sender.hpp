// One remote write target's sender: a thread that drains the target's hand-over queue into
// batches (batcher.hpp) and sends them oldest first, one request at a time (http.hpp). Batches
// wait in memory while the target answers; once a request fails they go to the on-disk spool
// (spool.hpp), and new ones follow them there until the spool is sent, so the order never changes.
// Connection errors, 5xx and 429 are retried with exponential backoff (Retry-After honoured);
// other answers outside 2xx drop the batch, counted and logged. The io thread hands over through
// queue() and reads stats(); everything else runs on the sender thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <utility>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/remote_write/batcher.hpp"
#include "heartbeat/remote_write/config.hpp"
#include "heartbeat/remote_write/handover.hpp"
#include "heartbeat/remote_write/http.hpp"
#include "heartbeat/remote_write/spool.hpp"

namespace heartbeat::remote_write {

// What became of the requests, for /metrics.
enum class request_result : std::uint8_t { ok, client_error, rate_limited, server_error, connection_error };
inline constexpr std::size_t request_result_count = 5;
inline const char* to_string(request_result r) noexcept {
  switch (r) {
    case request_result::ok: return "ok";
    case request_result::client_error: return "client_error";
    case request_result::rate_limited: return "rate_limited";
    case request_result::server_error: return "server_error";
    case request_result::connection_error: return "connection_error";
  }
  return "ok";
}

// Written by the sender thread, read by /metrics on the io thread.
struct sender_stats {
  std::atomic<std::uint64_t> sent{0};            // samples the target accepted (2xx)
  std::atomic<std::uint64_t> failed{0};          // samples of requests that failed and are retried
  std::atomic<std::uint64_t> rejected{0};        // samples dropped: the target refused them (4xx)
  std::atomic<std::uint64_t> out_of_order{0};    // samples dropped: not newer than their series' last
  std::atomic<std::uint64_t> spool_full{0};      // samples dropped: oldest spool segments removed
  std::atomic<std::uint64_t> spool_error{0};     // samples dropped: the spool could not be written
  std::atomic<std::uint64_t> spool_bytes{0};     // bytes waiting on disk
  std::atomic<std::uint64_t> spool_samples{0};   // samples waiting on disk
  std::atomic<std::uint64_t> memory_samples{0};  // samples waiting in memory (open batch and outbox)
  std::atomic<double> last_success{0};           // Unix time of the last 2xx
  std::atomic<std::uint64_t> requests[request_result_count] = {};
};

class sender {
 public:
  static constexpr std::size_t default_queue_bytes = std::size_t{16} << 20;
  static constexpr std::size_t memory_bytes = std::size_t{16} << 20;  // outbox in memory before spilling
  static constexpr double min_backoff = 0.25, max_backoff = 5, max_retry_after = 300;

  // `spool_dir` is the resolved directory (config's spool_dir below the state directory).
  sender(target_config t, std::string spool_dir, std::size_t queue_bytes = default_queue_bytes)
      : t_(std::move(t)),
        q_(queue_bytes),
        spool_(std::move(spool_dir), t_.spool_max_bytes),
        batcher_(t_, [this](batch&& b) { sealed(std::move(b)); }),
        http_(t_) {}
  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;
  ~sender() { stop(); }

  // Opens the spool (what an earlier run left is sent first) and starts the thread.
  result<void> start() {
    if (auto r = spool_.open(); !r) return r;
    update_spool_stats();
    if (!spool_.empty())
      log::info("remote_write ", t_.name, ": ", spool_.samples(), " samples (", spool_.bytes(),
                " bytes) spooled by an earlier run will be sent first");
    thread_ = std::thread([this] { run(); });
    return {};
  }

  // Seals what is queued, writes every unsent batch to the spool and joins the thread (a request
  // in flight is abandoned: its batch is spooled and sent again after the restart).
  void stop() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    q_.ring.wake();
    thread_.join();
  }

  const std::string& name() const noexcept { return t_.name; }
  const target_config& config() const noexcept { return t_; }
  handover_queue& queue() noexcept { return q_; }
  const handover_queue& queue() const noexcept { return q_; }
  const sender_stats& stats() const noexcept { return st_; }

 private:
  // A batch being sent: from memory (owned here) or the spool's oldest record.
  struct flight {
    bool from_disk = false;
    spool::position at;
    std::uint64_t record_bytes = 0;
    batch b;
  };

  target_config t_;
  handover_queue q_;
  spool spool_;
  batcher batcher_;
  http_client http_;
  sender_stats st_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::deque<batch> mem_;
  std::size_t mem_bytes_ = 0;
  std::uint64_t mem_samples_ = 0;
  flight flight_;
  bool failing_ = false;
  double backoff_ = 0;
  double retry_at_ = 0;
  unsigned idle_polls_ = 50;
  double last_reject_log_ = -1e9;
  std::uint64_t rejects_unlogged_ = 0;

  void run() {
    for (;;) {
      const bool stopping = stop_.load();
      double now = clock::mono_now();
      const bool got = drain(now);
      if (stopping || batcher_.due(now, t_.flush_interval)) batcher_.seal();
      if (stopping) break;
      if (!http_.busy() && now >= retry_at_) send_next();
      if (http_.busy()) {
        if (http_.poll(20)) finished(clock::mono_now());
      } else {
        double wait = 1.0;
        if (!batcher_.empty()) wait = std::min(wait, batcher_.opened() + t_.flush_interval - now);
        if (!mem_.empty() || !spool_.empty()) wait = std::min(wait, retry_at_ - now);
        // While records keep coming, nap (2 ms, up to ~100 ms after the last record) instead of
        // sleeping on the queue: waking a sleeping consumer costs the io thread a futex call.
        idle_polls_ = got ? 0 : std::min(idle_polls_ + 1, 50u);
        if (idle_polls_ < 50)
          std::this_thread::sleep_for(
              std::chrono::milliseconds(std::clamp(static_cast<long long>(wait * 1000), 0LL, 2LL)));
        else
          q_.ring.wait(std::chrono::milliseconds(static_cast<long long>(std::max(0.0, wait) * 1000) + 1));
      }
      publish_memory();
    }
    if (http_.busy()) {
      http_.abort();
      if (!flight_.from_disk) put_back();
    }
    spill();
    spool_.close();
    update_spool_stats();
    publish_memory();
    st_.out_of_order.store(batcher_.out_of_order());
  }

  // Takes every record waiting; false when there was none.
  bool drain(double now) {
    std::span<const std::byte> rec;
    std::uint64_t n = 0;
    while (q_.ring.front(rec)) {
      batcher_.add(rec, now);
      q_.ring.pop();
      ++n;
    }
    if (n) {
      q_.taken.fetch_add(n, std::memory_order_relaxed);
      st_.out_of_order.store(batcher_.out_of_order(), std::memory_order_relaxed);
    }
    return n > 0;
  }

  void publish_memory() {
    st_.memory_samples.store(
        mem_samples_ + batcher_.pending() + (http_.busy() && !flight_.from_disk ? flight_.b.samples : 0),
        std::memory_order_relaxed);
  }

  void update_spool_stats() {
    st_.spool_bytes.store(spool_.bytes(), std::memory_order_relaxed);
    st_.spool_samples.store(spool_.samples(), std::memory_order_relaxed);
    st_.spool_full.store(spool_.dropped_samples(), std::memory_order_relaxed);
  }

  // A batch is complete: it waits in memory while the target keeps up, else behind the spool.
  void sealed(batch&& b) {
    if (failing_ || !spool_.empty()) {
      to_spool(b);
      return;
    }
    mem_bytes_ += b.payload.size();
    mem_samples_ += b.samples;
    mem_.push_back(std::move(b));
    if (mem_bytes_ > memory_bytes) spill();
  }

  void to_spool(const batch& b) {
    if (auto r = spool_.append(b.samples, b.payload); !r) {
      st_.spool_error.fetch_add(b.samples, std::memory_order_relaxed);
      log::error("remote_write ", t_.name, ": ", r.err().message, "; ", b.samples, " samples dropped");
    }
    update_spool_stats();
  }

  // Everything in memory goes to the spool, in order; a batch in flight from memory first (it is
  // older than the rest), and from then on it counts as the spool's oldest record.
  void spill() {
    if (http_.busy() && !flight_.from_disk && spool_.empty()) {
      to_spool(flight_.b);
      spool::record head;
      if (spool_.front(head)) {
        flight_.from_disk = true;
        flight_.at = head.at;
        flight_.record_bytes = spool::header_bytes + head.payload.size();
      }
    }
    for (auto& b : mem_) to_spool(b);
    mem_.clear();
    mem_bytes_ = 0;
    mem_samples_ = 0;
  }

  // A batch from memory whose request did not complete goes back to the front.
  void put_back() {
    mem_bytes_ += flight_.b.payload.size();
    mem_samples_ += flight_.b.samples;
    mem_.push_front(std::move(flight_.b));
    flight_ = {};
  }

  void send_next() {
    spool::record rec;
    if (spool_.front(rec)) {
      flight_.from_disk = true;
      flight_.at = rec.at;
      flight_.record_bytes = spool::header_bytes + rec.payload.size();
      flight_.b.samples = rec.samples;
      flight_.b.payload = std::move(rec.payload);
      update_spool_stats();  // front() may have skipped an unreadable segment
    } else if (!mem_.empty()) {
      flight_.from_disk = false;
      flight_.b = std::move(mem_.front());
      mem_.pop_front();
      mem_bytes_ -= flight_.b.payload.size();
      mem_samples_ -= flight_.b.samples;
    } else {
      return;
    }
    http_.start(flight_.b.payload);
  }

  void finished(double now) {
    const http_outcome& o = http_.outcome();
    request_result res = !o.transport_ok       ? request_result::connection_error
                         : o.status / 100 == 2 ? request_result::ok
                         : o.status == 429     ? request_result::rate_limited
                         : o.status >= 500     ? request_result::server_error
                                               : request_result::client_error;
    st_.requests[static_cast<std::size_t>(res)].fetch_add(1, std::memory_order_relaxed);
    const std::uint32_t n = flight_.b.samples;
    if (res == request_result::ok || res == request_result::client_error) {
      if (res == request_result::ok) {
        st_.sent.fetch_add(n, std::memory_order_relaxed);
        st_.last_success.store(clock::wall_now(), std::memory_order_relaxed);
      } else {
        st_.rejected.fetch_add(n, std::memory_order_relaxed);
        log_reject(o, n, now);
      }
      if (flight_.from_disk) spool_.pop(flight_.at, n, flight_.record_bytes);
      flight_ = {};
      if (failing_)
        log::info("remote_write ", t_.name, ": the target answers again (", spool_.samples(),
                  " samples spooled)");
      failing_ = false;
      backoff_ = 0;
      retry_at_ = 0;
      update_spool_stats();
      return;
    }
    st_.failed.fetch_add(n, std::memory_order_relaxed);
    backoff_ = backoff_ == 0 ? min_backoff : std::min(backoff_ * 2, max_backoff);
    double delay = o.retry_after ? std::min(*o.retry_after, max_retry_after) : backoff_;
    retry_at_ = now + delay;
    if (!failing_) {
      std::string why = o.transport_ok ? "HTTP " + std::to_string(o.status) : o.error;
      log::warn("remote_write ", t_.name, ": ", why, "; retrying in ", delay, " s, spooling meanwhile");
    }
    failing_ = true;
    if (!flight_.from_disk) put_back();
    flight_ = {};
    spill();
  }

  // A refused batch is logged with the target's reason, at most once per 10 s (the rest counted).
  void log_reject(const http_outcome& o, std::uint32_t n, double now) {
    if (now - last_reject_log_ < 10) {
      ++rejects_unlogged_;
      return;
    }
    std::string body = o.body.substr(0, 200);
    for (char& c : body)
      if (c == '\n' || c == '\r') c = ' ';
    log::warn("remote_write ", t_.name, ": HTTP ", o.status, " (", body, "): dropped ", n, " samples",
              rejects_unlogged_
                  ? " (and " + std::to_string(rejects_unlogged_) + " more batches since the last report)"
                  : std::string());
    last_reject_log_ = now;
    rejects_unlogged_ = 0;
  }
};

}  // namespace heartbeat::remote_write
