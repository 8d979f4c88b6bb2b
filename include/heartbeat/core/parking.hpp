// Sleep/wake for the consumer of a lock-free single-producer queue: the
// producer pays one atomic load per push and takes the lock only when the
// consumer is actually asleep (idle), never under load.
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
    if (sleeping_.load(std::memory_order_seq_cst)) {
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
    sleeping_.store(true, std::memory_order_seq_cst);
    if (empty() && !woken_) cv_.wait_for(lk, timeout, [&] { return woken_ || !empty(); });
    sleeping_.store(false, std::memory_order_relaxed);
    woken_ = false;
    return !empty();
  }

  // Any thread: wakes a waiting consumer (e.g. to let it see a stop flag).
  void wake() {
    std::lock_guard lk(m_);
    woken_ = true;
    cv_.notify_all();
  }

 private:
  alignas(64) std::atomic<bool> sleeping_{false};
  std::mutex m_;
  std::condition_variable cv_;
  bool woken_ = false;
};

}  // namespace heartbeat
