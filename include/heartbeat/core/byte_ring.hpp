// Bounded single-producer single-consumer ring of variable-size records: the
// io thread copies a record's bytes in (no allocation per record, unlike a
// queue of strings) and a worker thread reads them in place. A record that
// does not fit is refused (the caller counts the drop); records never wrap,
// so the consumer always sees one contiguous span.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "heartbeat/core/parking.hpp"

namespace heartbeat {

class byte_ring {
 public:
  // `bytes` is rounded up to a power of two (at least 4 KiB).
  explicit byte_ring(std::size_t bytes) : cap_(round_up(bytes)), mask_(cap_ - 1), buf_(new std::byte[cap_]) {}
  byte_ring(const byte_ring&) = delete;
  byte_ring& operator=(const byte_ring&) = delete;

  std::size_t capacity() const noexcept { return cap_; }
  // Bytes in use (headers and padding included).
  std::size_t used() const noexcept {
    return static_cast<std::size_t>(tail_.load(std::memory_order_acquire) -
                                    head_.load(std::memory_order_acquire));
  }

  // Producer: space for a record of `n` bytes, or nullptr when the ring is
  // full. The record becomes visible at commit(); a second prepare() before
  // commit() replaces the first.
  std::byte* prepare(std::size_t n) {
    if (n > max_record()) return nullptr;
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    const std::size_t need = slot_size(n);
    std::size_t off = static_cast<std::size_t>(tail & mask_);
    std::size_t pad = cap_ - off < need ? cap_ - off : 0;  // skip the tail end: records never wrap
    if (tail + pad + need - head > cap_) return nullptr;
    pending_pad_ = pad;
    pending_len_ = n;
    off = pad ? 0 : off;
    return buf_.get() + off + header;
  }
  void commit() {
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (pending_pad_) {
      write_len(static_cast<std::size_t>(tail & mask_), pad_marker);
      tail += pending_pad_;
    }
    write_len(static_cast<std::size_t>(tail & mask_), static_cast<std::uint32_t>(pending_len_));
    tail_.store(tail + slot_size(pending_len_), std::memory_order_seq_cst);
    pending_pad_ = 0;
    parking_.notify([this] { return filling(); });
  }
  // Producer: prepare + copy + commit.
  bool push(std::span<const std::byte> rec) {
    std::byte* p = prepare(rec.size());
    if (!p) return false;
    if (!rec.empty()) std::memcpy(p, rec.data(), rec.size());
    commit();
    return true;
  }

  // Consumer: the oldest record (empty span and false when none). pop() frees it.
  bool front(std::span<const std::byte>& rec) {
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_acquire)) return false;
    std::uint32_t len = read_len(static_cast<std::size_t>(head & mask_));
    if (len == pad_marker) {
      head += cap_ - (head & mask_);
      head_.store(head, std::memory_order_release);
      len = read_len(0);
    }
    rec = {buf_.get() + (head & mask_) + header, len};
    return true;
  }
  void pop() {
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    std::uint32_t len = read_len(static_cast<std::size_t>(head & mask_));
    head_.store(head + slot_size(len), std::memory_order_release);
  }

  // Consumer: waits until a record arrives, wake() is called or `timeout` passes.
  bool wait(std::chrono::milliseconds timeout) {
    return parking_.wait(timeout, [this] {
      return head_.load(std::memory_order_relaxed) == tail_.load(std::memory_order_seq_cst);
    });
  }
  void wake() { parking_.wake(); }
  // Consumer, while records keep coming: sleeps up to `timeout`, or until the ring
  // is a quarter full; producers pay no wake-up meanwhile (core/parking.hpp).
  void nap(std::chrono::milliseconds timeout) {
    parking_.nap(timeout, [this] { return filling(); });
  }

 private:
  bool filling() const {
    return tail_.load(std::memory_order_seq_cst) - head_.load(std::memory_order_seq_cst) >= cap_ / 4;
  }
  static constexpr std::size_t header = 8;  // u32 length, padded: records stay 8-byte aligned
  static constexpr std::uint32_t pad_marker = 0xffffffffu;
  static std::size_t round_up(std::size_t n) {
    std::size_t c = 4096;
    while (c < n) c <<= 1;
    return c;
  }
  static std::size_t slot_size(std::size_t n) { return (header + n + 7) & ~std::size_t{7}; }
  std::size_t max_record() const noexcept { return cap_ / 2 - header; }
  void write_len(std::size_t off, std::uint32_t len) { std::memcpy(buf_.get() + off, &len, sizeof len); }
  std::uint32_t read_len(std::size_t off) const {
    std::uint32_t len;
    std::memcpy(&len, buf_.get() + off, sizeof len);
    return len;
  }

  const std::size_t cap_;
  const std::uint64_t mask_;
  std::unique_ptr<std::byte[]> buf_;
  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  // Producer only.
  std::size_t pending_pad_ = 0;
  std::size_t pending_len_ = 0;
  consumer_parking parking_;
};

}  // namespace heartbeat
