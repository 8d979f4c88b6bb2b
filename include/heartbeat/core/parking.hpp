// Sleep/wake for the consumer of a lock-free single-producer queue: the
// producer pays one atomic load per push and takes the lock only when the
// consumer is actually asleep (idle), never under load. While items keep
// coming the consumer naps between batches instead: producers wake it only
// when the queue fills up, so neither side pays a wake-up per item.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace heartbeat {

class consumer_parking {
 public:
  // Producer, after publishing an item.
  void notify() {
    notify([] { return true; });
  }
  // The same, where `filling()` says whether the queue is full enough to end a nap.
  template <class Filling>
  void notify(Filling&& filling) {
    const int s = sleeping_.load(std::memory_order_seq_cst);
    if (s == asleep || (s == napping && filling())) {
      std::lock_guard lk(m_);
      cv_.notify_one();
    }
  }

  // Consumer: sleeps until `empty()` turns false, wake() is called or `timeout`
  // passes. `empty` must read the producer's position with seq_cst so that it
  // pairs with notify(). Returns !empty().
  template <class Empty>
  bool wait(std::chrono::milliseconds timeout, Empty&& empty) {
    if (!empty()) return true;
    std::unique_lock lk(m_);
    sleeping_.store(asleep, std::memory_order_seq_cst);
    if (empty() && !woken_) cv_.wait_for(lk, timeout, [&] { return woken_ || !empty(); });
    sleeping_.store(awake, std::memory_order_relaxed);
    woken_ = false;
    return !empty();
  }

  // Consumer, between batches while items keep coming: sleeps `timeout` unless
  // `filling()` turns true (the producer's notify sees it too) or wake() is called.
  template <class Filling>
  void nap(std::chrono::milliseconds timeout, Filling&& filling) {
    if (filling()) return;
    std::unique_lock lk(m_);
    sleeping_.store(napping, std::memory_order_seq_cst);
    if (!filling() && !woken_) cv_.wait_for(lk, timeout, [&] { return woken_ || filling(); });
    sleeping_.store(awake, std::memory_order_relaxed);
    woken_ = false;
  }

  // Any thread: wakes a waiting consumer (e.g. to let it see a stop flag).
  void wake() {
    std::lock_guard lk(m_);
    woken_ = true;
    cv_.notify_all();
  }

 private:
  static constexpr int awake = 0, asleep = 1, napping = 2;
  alignas(64) std::atomic<int> sleeping_{awake};
  std::mutex m_;
  std::condition_variable cv_;
  bool woken_ = false;
};

}  // namespace heartbeat
