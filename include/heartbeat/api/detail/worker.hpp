// One background thread for the API's slow CPU work (PBKDF2 password checks and hashing), so a
// login never stalls the io thread. Jobs are queued from the io thread; results are posted back to
// it. Bounded: a full queue refuses the job (the caller answers 503).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "heartbeat/net/asio.hpp"

namespace heartbeat::api::detail {

class worker {
 public:
  explicit worker(asio::io_context& io, std::size_t max_queue = 32) : io_(io), max_(max_queue) {
    thread_ = std::thread([this] { run(); });
  }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;
  ~worker() {
    {
      std::lock_guard lk(m_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  // Runs `work` on the worker thread, then `done(result)` on the io thread unless the owner has
  // gone (`alive` expired). False when the queue is full.
  template <class Work, class Done>
  bool submit(std::weak_ptr<void> alive, Work work, Done done) {
    std::lock_guard lk(m_);
    if (jobs_.size() >= max_) return false;
    jobs_.push_back(
        [this, alive = std::move(alive), work = std::move(work), done = std::move(done)]() mutable {
          auto r = work();
          asio::post(io_, [alive = std::move(alive), done = std::move(done), r = std::move(r)]() mutable {
            if (!alive.expired()) done(std::move(r));
          });
        });
    cv_.notify_one();
    return true;
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lk(m_);
        cv_.wait(lk, [&] { return stop_ || !jobs_.empty(); });
        if (stop_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  asio::io_context& io_;
  std::size_t max_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace heartbeat::api::detail
