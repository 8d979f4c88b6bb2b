// The one subprocess runner of hbd and hbc: argv only (posix_spawnp, never a
// shell), optional stdin text, stdout and stderr captured up to a size cap, and
// a timeout after which the child's whole process group is SIGKILLed and the
// child reaped (through a pidfd; a 10 ms waitpid poll on kernels without one).
// run_process() is a coroutine for the caller's io_context thread (hbc's
// plugins and commands); run_process_blocking() runs the same coroutine on a
// private io_context for a worker thread (hbd's DNS worker and nsupdate).
#pragma once

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "heartbeat/net/asio.hpp"

#if !defined(__GLIBC__) || __GLIBC__ < 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ < 34)
#error "net/subprocess.hpp needs glibc 2.34 or later (posix_spawn_file_actions_addclosefrom_np)"
#endif

extern char** environ;

namespace heartbeat::net {

struct process_result {
  int rc = -1;             // exit code; -N when killed by signal N
  std::string out;         // stdout (at most max_output bytes; with merge_stderr also stderr)
  std::string err;         // stderr (at most max_output bytes)
  bool timed_out = false;  // killed because the timeout ran out or `cancel` was set (rc is then -9)
  bool spawned = false;    // false: the program could not be started (rc 127, `err` says why)
  bool truncated = false;  // some output beyond max_output was dropped
};

struct process_options {
  std::chrono::milliseconds timeout{30000};
  std::size_t max_output = 64 * 1024;
  std::vector<std::string> extra_env;  // "KEY=value" added to the environment
  std::string input;                   // written to the child's stdin, then closed; empty: /dev/null
  bool merge_stderr = false;           // stderr into `out` too (one interleaved stream)
  // Set by another thread to give up early (the child is killed as on a timeout);
  // looked at every 100 ms while the child runs.
  const std::atomic<bool>* cancel = nullptr;
};

// A timeout in seconds (a configured duration) as process_options::timeout.
inline std::chrono::milliseconds timeout_from_seconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

namespace detail {

// The parent's ends of a started child's pipes (-1: none).
struct child_handles {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;
};

inline void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Starts argv[0] (looked up in PATH when it has no '/') in its own process group,
// with default signal dispositions, an empty signal mask and only descriptors 0-2:
// every other descriptor of this process (sockets, files, other children's pipes)
// stays out of the child whatever its close-on-exec flag. Returns "" or why not.
inline std::string start_child(const std::vector<std::string>& argv, const process_options& o,
                               child_handles& c) {
  if (argv.empty() || argv[0].empty()) return "empty command";
  int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
  auto close_all = [&] {
    for (int* p : {in_p, out_p, err_p}) {
      close_fd(p[0]);
      close_fd(p[1]);
    }
  };
  if ((!o.input.empty() && ::pipe2(in_p, O_CLOEXEC) != 0) || ::pipe2(out_p, O_CLOEXEC) != 0 ||
      (!o.merge_stderr && ::pipe2(err_p, O_CLOEXEC) != 0)) {
    std::string why = std::string("pipe: ") + std::strerror(errno);
    close_all();
    return why;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in_p[0] >= 0)
    posix_spawn_file_actions_adddup2(&fa, in_p[0], 0);
  else
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
  posix_spawn_file_actions_adddup2(&fa, o.merge_stderr ? out_p[1] : err_p[1], 2);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);  // e.g. SIGPIPE, which the parent may ignore
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  if (!o.extra_env.empty()) {
    for (char** e = environ; e && *e; ++e) cenv.push_back(*e);
    for (const auto& e : o.extra_env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
  }
  int rc = ::posix_spawnp(&c.pid, cargv[0], &fa, &attr, cargv.data(), cenv.empty() ? environ : cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close_fd(in_p[0]);
  close_fd(out_p[1]);
  close_fd(err_p[1]);
  if (rc != 0) {
    close_all();
    c = {};
    return argv[0] + ": " + std::strerror(rc);
  }
  c.in = in_p[1];
  c.out = out_p[0];
  c.err = err_p[0];
  return {};
}

// The whole group: grandchildren (`sh -c "a & b"`, a plugin's helpers) go too.
inline void kill_group(pid_t pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
}

inline int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}

// write(2) on a pipe whose reader has gone raises SIGPIPE, which ends a process
// that does not ignore it (hbd does not): the signal is blocked for this thread
// around the call and the one the call raised is discarded; the caller sees EPIPE.
inline ssize_t write_no_sigpipe(int fd, const char* p, std::size_t n) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t r = ::write(fd, p, n);
  int e = errno;
  if (r < 0 && e == EPIPE && !sigismember(&old, SIGPIPE)) {
    timespec zero{0, 0};
    ::sigtimedwait(&pipe_set, nullptr, &zero);
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = e;
  return r;
}

// Feeds `text` to the child's stdin, then closes it (EOF). A child that exits
// without reading ends the feeding quietly.
inline awaitable<void> feed_pipe(asio::posix::stream_descriptor& d, const std::string& text) {
  if (!d.is_open()) co_return;
  d.non_blocking(true);
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write_no_sigpipe(d.native_handle(), text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto [ec] = co_await d.async_wait(asio::posix::stream_descriptor::wait_write, as_tuple_awaitable);
      if (ec) break;
    } else if (!(n < 0 && errno == EINTR)) {
      break;
    }
  }
  asio::error_code ignored;
  d.close(ignored);
}

// Reads a pipe to EOF, keeping at most `cap` bytes (the rest is drained so the
// child never blocks on a full pipe).
inline awaitable<void> drain_pipe(asio::posix::stream_descriptor& d, std::string& into, std::size_t cap,
                                  bool& truncated) {
  if (!d.is_open()) co_return;
  char buf[4096];
  for (;;) {
    auto [ec, n] = co_await d.async_read_some(asio::buffer(buf), as_tuple_awaitable);
    if (n > 0) {
      std::size_t room = into.size() < cap ? cap - into.size() : 0;
      into.append(buf, std::min(n, room));
      if (n > room) truncated = true;
    }
    if (ec) co_return;
  }
}

// Completes at `deadline`, within 100 ms of `cancel` being set, or when the
// race it is part of is decided by the other side (the wait is cancelled).
inline awaitable<void> wait_until(steady_clock::time_point deadline, const std::atomic<bool>* cancel) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (;;) {
    auto now = steady_clock::now();
    if (now >= deadline || (cancel && cancel->load())) co_return;
    t.expires_at(cancel ? std::min(deadline, now + std::chrono::milliseconds(100)) : deadline);
    auto [ec] = co_await t.async_wait(as_tuple_awaitable);
    if (ec) co_return;
  }
}

inline bool cancelled(const process_options& o) { return o.cancel && o.cancel->load(); }

// Waits for `pid` to exit and returns its decoded status; past `deadline` (or
// on `cancel`) the group is SIGKILLed and the child reaped, so this always ends.
inline awaitable<int> reap(pid_t pid, steady_clock::time_point deadline, const process_options& o,
                           bool& killed) {
  auto ex = co_await asio::this_coro::executor;
  int status = 0;
  auto kill_and_wait = [&] {
    killed = true;
    kill_group(pid);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return decode_wait_status(status);
  };
  int pidfd = -1;
#ifdef SYS_pidfd_open
  pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // close-on-exec by definition
#endif
  if (pidfd >= 0) {
    asio::posix::stream_descriptor pd(ex, pidfd);
    for (;;) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) co_return decode_wait_status(status);
      if (r < 0 && errno != EINTR) co_return -1;
      if (steady_clock::now() >= deadline || cancelled(o)) co_return kill_and_wait();
      using namespace asio::experimental::awaitable_operators;
      co_await ([](asio::posix::stream_descriptor& d) -> awaitable<void> {
        auto [ec] = co_await d.async_wait(asio::posix::stream_descriptor::wait_read, as_tuple_awaitable);
        (void)ec;
      }(pd) || wait_until(deadline, o.cancel));
    }
  }
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) co_return decode_wait_status(status);
    if (r < 0 && errno != EINTR) co_return -1;
    if (steady_clock::now() >= deadline || cancelled(o)) co_return kill_and_wait();
    co_await sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace detail

// Runs argv (see process_options) on the calling coroutine's executor. Never
// throws for a failing program: a program that cannot start gives rc 127.
inline awaitable<process_result> run_process(const std::vector<std::string>& argv,
                                             process_options opts = {}) {
  process_result res;
  auto ex = co_await asio::this_coro::executor;
  detail::child_handles c;
  if (std::string why = detail::start_child(argv, opts, c); !why.empty()) {
    res.rc = 127;
    res.err = std::move(why);
    co_return res;
  }
  res.spawned = true;
  auto deadline = steady_clock::now() + opts.timeout;
  asio::posix::stream_descriptor in_d(ex), out_d(ex, c.out), err_d(ex);
  if (c.in >= 0) in_d.assign(c.in);
  if (c.err >= 0) err_d.assign(c.err);
  {
    using namespace asio::experimental::awaitable_operators;
    auto r = co_await ((detail::feed_pipe(in_d, opts.input) &&
                        detail::drain_pipe(out_d, res.out, opts.max_output, res.truncated) &&
                        detail::drain_pipe(err_d, res.err, opts.max_output, res.truncated)) ||
                       detail::wait_until(deadline, opts.cancel));
    if (r.index() == 1) {
      res.timed_out = true;
      detail::kill_group(c.pid);
    }
  }
  // A child that closed its pipes (or left a grandchild holding them) gets the
  // rest of the timeout to exit, then is killed; reaping is always bounded.
  bool killed = false;
  res.rc = co_await detail::reap(c.pid, deadline + std::chrono::milliseconds(50), opts, killed);
  if (killed) res.timed_out = true;
  co_return res;
}

// The same for a thread that may block (not an io_context thread): a private
// io_context runs the coroutine to its end.
inline process_result run_process_blocking(const std::vector<std::string>& argv, process_options opts = {}) {
  asio::io_context io(1);
  process_result res;
  std::exception_ptr failure;
  asio::co_spawn(
      io,
      [](const std::vector<std::string>& a, process_options o, process_result& out) -> awaitable<void> {
        out = co_await run_process(a, std::move(o));
      }(argv, std::move(opts), res),
      [&failure](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return res;
}

}  // namespace heartbeat::net
