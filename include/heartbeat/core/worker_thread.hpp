// One worker thread and its stop flag, for the parts that drain a queue on a thread of their own
// (the journal writer, the DNS worker): start() runs the loop, stop() raises the flag, wakes the
// loop and joins. start() and stop() are called from one thread (start-up, the io thread at
// shutdown); the loop reads stopping() and may hand stop_flag() to what it waits on.
#pragma once

#include <atomic>
#include <thread>
#include <utility>

namespace heartbeat {

class worker_thread {
 public:
  worker_thread() = default;
  worker_thread(const worker_thread&) = delete;
  worker_thread& operator=(const worker_thread&) = delete;
  // The owner stops the thread in its own destructor: the loop uses the owner's members.
  ~worker_thread() {
    stop([] {});
  }

  bool running() const noexcept { return thread_.joinable(); }
  bool stopping() const noexcept { return stop_.load(); }
  const std::atomic<bool>& stop_flag() const noexcept { return stop_; }

  template <class Loop>
  void start(Loop&& loop) {
    stop_.store(false);
    thread_ = std::thread(std::forward<Loop>(loop));
  }

  // `wake` rouses the loop from its wait (e.g. the queue's wake()), after the flag is raised.
  template <class Wake>
  void stop(Wake&& wake) {
    if (!thread_.joinable()) return;
    stop_.store(true);
    wake();
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace heartbeat
