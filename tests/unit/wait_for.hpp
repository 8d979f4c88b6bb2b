// Bounded waiting for unit tests: poll a condition until it holds or a deadline passes, so a test
// waits as long as the code under test needs and no longer. Runs on the test's own thread.
#pragma once

#include <chrono>
#include <thread>

namespace hbtest {

// Polls `pred` every `step` until it returns true (-> true) or `timeout` passes (-> the result of one
// last check at the deadline). Say at the call site what was awaited and what was last seen:
//   ASSERT_TRUE(hbtest::wait_for([&] { return s.stats().rows_written == 1; }))
//       << "awaited the commit; rows_written " << s.stats().rows_written;
template <class Pred>
bool wait_for(Pred&& pred, std::chrono::milliseconds timeout = std::chrono::seconds(5),
              std::chrono::milliseconds step = std::chrono::milliseconds(2)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(step);
  }
  return true;
}

}  // namespace hbtest
