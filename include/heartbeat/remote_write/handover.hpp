// The hand-over from the io thread to the remote write senders: what arrived (a PLG's raw data, a
// host's state after an HTB or a change, an alert level, a single sample) is copied as one compact
// record into each target's bounded byte ring; the sender turns records into series later, on its
// own thread. The io thread never waits: a record that does not fit is dropped and counted.
// `feed` is the io thread's side, `record_reader` the sender's.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "heartbeat/core/byte_ring.hpp"
#include "heartbeat/remote_write/wire.hpp"
#include "heartbeat/server/host.hpp"

namespace heartbeat::remote_write {

enum class record_kind : std::uint8_t { plugin = 1, host = 2, alert = 3, sample = 4 };

// One target's queue. `pushed` and `dropped` are the io thread's, `taken` the sender's.
struct handover_queue {
  explicit handover_queue(std::size_t bytes) : ring(bytes) {}
  byte_ring ring;
  std::uint64_t pushed = 0;
  std::uint64_t dropped = 0;
  std::atomic<std::uint64_t> taken{0};
  std::uint64_t depth() const noexcept { return pushed - taken.load(std::memory_order_relaxed); }
};

// A host record's connection part.
struct conn_status {
  std::uint8_t family = 0;  // server::address_family
  std::uint8_t state = 0;   // server::host_state
  bool has_rtt = false;
  double rtt_ms = 0;
};

namespace detail {

class writer {
 public:
  explicit writer(std::byte* p) : p_(p) {}
  template <class T>
  void put(T v) {
    std::memcpy(p_, &v, sizeof v);
    p_ += sizeof v;
  }
  void str(std::string_view s) {
    put(static_cast<std::uint32_t>(s.size()));
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }

 private:
  std::byte* p_;
};

constexpr std::size_t str_size(std::string_view s) { return 4 + s.size(); }

}  // namespace detail

// Reads the fields of a record in the order they were written (sender thread).
class record_reader {
 public:
  explicit record_reader(std::span<const std::byte> r) : p_(r.data()), end_(r.data() + r.size()) {}
  template <class T>
  T get() {
    T v{};
    if (p_ + sizeof v <= end_) std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  std::string_view str() {
    auto n = get<std::uint32_t>();
    if (p_ > end_ || static_cast<std::size_t>(end_ - p_) < n) {
      p_ = end_;
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }

 private:
  const std::byte* p_;
  const std::byte* end_;
};

// The io thread's side: every call copies one record into each attached queue.
class feed {
 public:
  void attach(handover_queue* q) { queues_.push_back(q); }
  void detach_all() { queues_.clear(); }
  bool active() const noexcept { return !queues_.empty(); }

  // A PLG's data as received; `ts` is the sample's timestamp (its own, else the receive time).
  void plugin(std::string_view host, std::string_view plugin, double ts, std::string_view data_json) {
    put(1 + 8 + detail::str_size(host) + detail::str_size(plugin) + detail::str_size(data_json),
        [&](detail::writer& w) {
          w.put(record_kind::plugin);
          w.put(ts);
          w.str(host);
          w.str(plugin);
          w.str(data_json);
        });
  }

  // A host's state at `ts`. With `host_part` the host's own series (up, state, loss, skew) are
  // written; `conns` are the connections whose series are.
  void host(const server::host& h, double ts, bool host_part, std::span<const conn_status> conns) {
    put(1 + 8 + detail::str_size(h.name) + 1 + 1 + 8 + 1 + 8 + 1 + conns.size() * (3 + 8),
        [&](detail::writer& w) {
          w.put(record_kind::host);
          w.put(ts);
          w.str(h.name);
          w.put(static_cast<std::uint8_t>(host_part));
          w.put(static_cast<std::uint8_t>(h.state));
          w.put(h.loss_rate());
          w.put(static_cast<std::uint8_t>(h.clock_skew.has_value()));
          w.put(h.clock_skew.value_or(0.0));
          w.put(static_cast<std::uint8_t>(conns.size()));
          for (const auto& c : conns) {
            w.put(c.family);
            w.put(c.state);
            w.put(static_cast<std::uint8_t>(c.has_rtt));
            w.put(c.rtt_ms);
          }
        });
  }

  // An alert's level (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) from `ts` on.
  void alert(std::string_view host, std::string_view metric_path, int level, double ts) {
    put(1 + 8 + detail::str_size(host) + detail::str_size(metric_path) + 1, [&](detail::writer& w) {
      w.put(record_kind::alert);
      w.put(ts);
      w.str(host);
      w.str(metric_path);
      w.put(static_cast<std::uint8_t>(level));
    });
  }

  // One sample of any series; the labels are checked by the caller (hbd/remote_write.hpp).
  void sample(std::string_view name, std::span<const label> labels, double ts, double value) {
    std::size_t n = 1 + 8 + 8 + detail::str_size(name) + 1;
    for (const auto& l : labels) n += detail::str_size(l.name) + detail::str_size(l.value);
    put(n, [&](detail::writer& w) {
      w.put(record_kind::sample);
      w.put(ts);
      w.put(value);
      w.str(name);
      w.put(static_cast<std::uint8_t>(labels.size()));
      for (const auto& l : labels) {
        w.str(l.name);
        w.str(l.value);
      }
    });
  }

 private:
  std::vector<handover_queue*> queues_;

  template <class Write>
  void put(std::size_t n, Write&& write) {
    for (handover_queue* q : queues_) {
      std::byte* p = q->ring.prepare(n);
      if (!p) {
        ++q->dropped;
        continue;
      }
      detail::writer w(p);
      write(w);
      q->ring.commit();
      ++q->pushed;
    }
  }
};

}  // namespace heartbeat::remote_write
