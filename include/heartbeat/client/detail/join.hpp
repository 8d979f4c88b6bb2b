// Runs a set of coroutines concurrently and waits for all of them: a countdown
// on a timer set to time_point::max() (the Asio examples' async condition
// variable), and run_all() for programs run side by side. Results live in shared state so a
// cancelled waiter never leaves a task writing into a dead frame. hbc's io thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "heartbeat/net/asio.hpp"
#include "heartbeat/net/subprocess.hpp"

namespace heartbeat::client::detail {

// Runs every task at once; returns when each one ended. Tasks own their state
// (coroutines with by-value parameters, never capturing lambdas).
inline net::awaitable<void> join_all(std::vector<net::awaitable<void>> tasks) {
  if (tasks.empty()) co_return;
  auto ex = co_await asio::this_coro::executor;
  auto remaining = std::make_shared<std::size_t>(tasks.size());
  auto done = std::make_shared<asio::steady_timer>(ex, std::chrono::steady_clock::time_point::max());
  for (auto& t : tasks) {
    asio::co_spawn(ex, std::move(t), [remaining, done](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::error("client: task failed: ", ex.what());
        }
      }
      if (--*remaining == 0) done->cancel();
    });
  }
  // Tasks may all have finished before we get here (co_spawn may run them inline).
  while (*remaining > 0) {
    auto [ec] = co_await done->async_wait(net::as_tuple_awaitable);
    (void)ec;
  }
}

// One program for run_all().
struct process_job {
  std::vector<std::string> argv;
  net::process_options options;
};

inline net::awaitable<void> run_job(std::shared_ptr<std::vector<net::process_result>> results, std::size_t i,
                                    process_job job) {
  (*results)[i] = co_await net::run_process(job.argv, job.options);
}

// Runs every job at once; their results in the order of `jobs`.
inline net::awaitable<std::vector<net::process_result>> run_all(std::vector<process_job> jobs) {
  auto results = std::make_shared<std::vector<net::process_result>>(jobs.size());
  std::vector<net::awaitable<void>> tasks;
  for (std::size_t i = 0; i < jobs.size(); ++i) tasks.push_back(run_job(results, i, std::move(jobs[i])));
  co_await join_all(std::move(tasks));
  co_return std::move(*results);
}

}  // namespace heartbeat::client::detail
