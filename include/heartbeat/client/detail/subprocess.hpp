// Runs a program (argv, never a shell) as a coroutine on the caller's io_context:
// posix_spawnp with stdout and stderr pipes read by Asio, a hard timeout that
// kills the child's whole process group, and reaping through a pidfd (a short
// polling fallback on kernels without pidfd_open). Used by nagios_runner, exec,
// ping_monitor, zfs_monitor, disk I/O helpers and the command runner; one io thread.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "heartbeat/core/log.hpp"
#include "heartbeat/net/asio.hpp"

extern char** environ;

namespace heartbeat::client {

struct process_result {
  int rc = -1;             // exit code; -N when killed by signal N
  std::string out;         // stdout (at most max_output bytes)
  std::string err;         // stderr (at most max_output bytes)
  bool timed_out = false;  // killed because the timeout ran out (rc is then -9)
  bool spawned = false;    // false: the program could not be started (rc 127, `err` says why)
  bool truncated = false;  // some output beyond max_output was dropped
};

struct process_options {
  std::chrono::milliseconds timeout{30000};
  std::size_t max_output = 64 * 1024;
  std::vector<std::string> extra_env;  // "KEY=value" added to the environment
};

namespace detail {

// Reads a pipe to EOF, keeping at most `cap` bytes (the rest is drained so the
// child never blocks on a full pipe).
inline net::awaitable<void> drain_pipe(asio::posix::stream_descriptor& d, std::string& into, std::size_t cap,
                                       bool& truncated) {
  char buf[4096];
  for (;;) {
    auto [ec, n] = co_await d.async_read_some(asio::buffer(buf), net::as_tuple_awaitable);
    if (n > 0) {
      std::size_t room = into.size() < cap ? cap - into.size() : 0;
      into.append(buf, std::min(n, room));
      if (n > room) truncated = true;
    }
    if (ec) co_return;
  }
}

inline int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}

// Waits for `pid` to exit and returns its decoded status (bounded by `limit`;
// past it the child is SIGKILLed and reaped).
inline net::awaitable<int> reap(pid_t pid, std::chrono::milliseconds limit) {
  auto ex = co_await asio::this_coro::executor;
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + limit;
#ifdef SYS_pidfd_open
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    asio::posix::stream_descriptor pd(ex, pidfd);
    for (;;) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) co_return decode_wait_status(status);
      if (r < 0 && errno != EINTR) co_return -1;
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      auto ok = co_await net::with_timeout(
          [](asio::posix::stream_descriptor& d) -> net::awaitable<void> {
            auto [ec] =
                co_await d.async_wait(asio::posix::stream_descriptor::wait_read, net::as_tuple_awaitable);
            (void)ec;
          }(pd),
          left);
      (void)ok;
    }
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    co_return decode_wait_status(status);
  }
#endif
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) co_return decode_wait_status(status);
    if (r < 0 && errno != EINTR) co_return -1;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
    co_await net::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace detail

// Runs argv[0] (looked up in PATH when it has no '/') with argv, stdin from
// /dev/null, in its own process group. Never throws for a failing program.
inline net::awaitable<process_result> run_process(const std::vector<std::string>& argv,
                                                  process_options opts = {}) {
  process_result res;
  auto ex = co_await asio::this_coro::executor;
  if (argv.empty()) {
    res.rc = 127;
    res.err = "empty command";
    co_return res;
  }
  int out_p[2], err_p[2];
  if (::pipe2(out_p, O_CLOEXEC) != 0) {
    res.rc = 127;
    res.err = std::string("pipe: ") + std::strerror(errno);
    co_return res;
  }
  if (::pipe2(err_p, O_CLOEXEC) != 0) {
    res.rc = 127;
    res.err = std::string("pipe: ") + std::strerror(errno);
    ::close(out_p[0]);
    ::close(out_p[1]);
    co_return res;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_p[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2})
    sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<std::string> env_store;
  std::vector<char*> cenv;
  if (!opts.extra_env.empty()) {
    for (char** e = environ; e && *e; ++e) cenv.push_back(*e);
    for (const auto& e : opts.extra_env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
  }
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, cargv[0], &fa, &attr, cargv.data(), cenv.empty() ? environ : cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(out_p[1]);
  ::close(err_p[1]);
  if (rc != 0) {
    ::close(out_p[0]);
    ::close(err_p[0]);
    res.rc = 127;
    res.err = argv[0] + ": " + std::strerror(rc);
    co_return res;
  }
  res.spawned = true;
  asio::posix::stream_descriptor out_d(ex, out_p[0]), err_d(ex, err_p[0]);
  auto started = std::chrono::steady_clock::now();
  {
    using namespace asio::experimental::awaitable_operators;
    bool finished =
        co_await net::with_timeout(detail::drain_pipe(out_d, res.out, opts.max_output, res.truncated) &&
                                       detail::drain_pipe(err_d, res.err, opts.max_output, res.truncated),
                                   opts.timeout);
    if (!finished) {
      res.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
  }
  auto used =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  auto left = opts.timeout > used ? opts.timeout - used : std::chrono::milliseconds(0);
  // A child that closed its pipes (or daemonized a grandchild) gets the rest of
  // the timeout to exit, then is killed; reaping is always bounded.
  res.rc = co_await detail::reap(pid, left + std::chrono::milliseconds(50));
  co_return res;
}

}  // namespace heartbeat::client
