// Bounded single-producer single-consumer queue: the registry (io) thread hands
// work to a worker thread (journal, store, DNS, notifier) without locks. A full
// queue refuses the push (the caller counts the drop); an idle consumer sleeps
// (core/parking.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <utility>

#include "heartbeat/core/parking.hpp"

namespace heartbeat {

template <class T>
class spsc_queue {
 public:
  explicit spsc_queue(std::size_t capacity)
      : cap_(round_up(capacity + 1)), mask_(cap_ - 1), slots_(new slot[cap_]) {}
  spsc_queue(const spsc_queue&) = delete;
  spsc_queue& operator=(const spsc_queue&) = delete;
  ~spsc_queue() {
    while (pop()) {
    }
  }

  std::size_t capacity() const noexcept { return cap_ - 1; }
  std::size_t size() const noexcept {
    return (tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire)) & mask_;
  }

  // Producer side. Returns false (and leaves `v` intact) when full. Takes a
  // lock only when the consumer is asleep (idle), never under load.
  bool push(T&& v) {
    std::size_t t = tail_.load(std::memory_order_relaxed);
    std::size_t next = (t + 1) & mask_;
    if (next == head_.load(std::memory_order_acquire)) return false;
    new (slots_[t].ptr()) T(std::move(v));
    tail_.store(next, std::memory_order_seq_cst);
    parking_.notify([this] { return filling(); });
    return true;
  }

  // Consumer side.
  std::optional<T> pop() {
    std::size_t h = head_.load(std::memory_order_relaxed);
    if (h == tail_.load(std::memory_order_acquire)) return std::nullopt;
    T* p = slots_[h].ptr();
    std::optional<T> out(std::move(*p));
    p->~T();
    head_.store((h + 1) & mask_, std::memory_order_release);
    return out;
  }

  // Consumer side: waits until an item arrives, wake() is called, or `timeout`
  // passes. Returns whether an item is available.
  bool wait(std::chrono::milliseconds timeout) {
    return parking_.wait(timeout, [this] { return empty_for_consumer(); });
  }

  // Consumer side, while items keep coming: sleeps up to `timeout`, or until the
  // queue is a quarter full; producers pay no wake-up meanwhile (core/parking.hpp).
  void nap(std::chrono::milliseconds timeout) {
    parking_.nap(timeout, [this] { return filling(); });
  }

  // Wakes a waiting consumer (e.g. to let it see a stop flag); any thread.
  void wake() { parking_.wake(); }

 private:
  struct slot {
    alignas(T) unsigned char bytes[sizeof(T)];
    T* ptr() { return std::launder(reinterpret_cast<T*>(bytes)); }
  };
  static std::size_t round_up(std::size_t n) {
    std::size_t c = 2;
    while (c < n) c <<= 1;
    return c;
  }
  // A quarter full (seq_cst on both sides, so that it pairs with the nap's flag).
  bool filling() const {
    return ((tail_.load(std::memory_order_seq_cst) - head_.load(std::memory_order_seq_cst)) & mask_) >=
           cap_ / 4;
  }
  bool empty_for_consumer() const {
    return head_.load(std::memory_order_relaxed) == tail_.load(std::memory_order_seq_cst);
  }

  const std::size_t cap_;
  const std::size_t mask_;
  std::unique_ptr<slot[]> slots_;
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::atomic<std::size_t> tail_{0};
  consumer_parking parking_;
};

}  // namespace heartbeat
