// Runs a program with an argv (posix_spawn, no shell), feeds it stdin text,
// collects stdout+stderr and kills it at a deadline. Blocking: used on the
// DNS worker thread only.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "heartbeat/core/result.hpp"

extern char** environ;

namespace heartbeat::server::detail {

struct spawn_result {
  int exit_code = -1;  // exit status, or -1 when killed or signalled
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved, capped at 64 KiB
};

inline result<spawn_result> run_with_input(const std::vector<std::string>& argv, const std::string& input,
                                           std::chrono::milliseconds timeout,
                                           const std::atomic<bool>* cancel = nullptr) {
  if (argv.empty()) return make_error("spawn", "empty command");
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return make_error("spawn", std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return make_error("spawn", std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);  // no inherited sockets or files
#endif
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    return make_error("spawn", "cannot run " + argv[0] + ": " + std::strerror(rc));
  }

  // The script is small (far below the pipe buffer), but write without
  // blocking anyway in case the child never reads.
  ::fcntl(in[1], F_SETFL, O_NONBLOCK);
  std::size_t written = 0;
  int in_fd = in[1];
  auto deadline = std::chrono::steady_clock::now() + timeout;
  spawn_result res;
  bool out_open = true;
  char buf[4096];
  while (true) {
    if (in_fd >= 0 && written < input.size()) {
      ssize_t n = ::write(in_fd, input.data() + written, input.size() - written);
      if (n > 0)
        written += static_cast<std::size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        written = input.size();  // EPIPE: child gone
    }
    if (in_fd >= 0 && written >= input.size()) {
      ::close(in_fd);
      in_fd = -1;
    }
    if (!out_open) break;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline || (cancel && cancel->load())) {
      res.timed_out = true;
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd p[2] = {{out[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
    int np = in_fd >= 0 ? 2 : 1;
    int pr = ::poll(p, static_cast<nfds_t>(np), static_cast<int>(std::min<long long>(left, 100)));
    if (pr < 0 && errno != EINTR) break;
    if (pr > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n > 0) {
        if (res.output.size() < 65536) res.output.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        out_open = false;
      }
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  ::close(out[0]);
  int status = 0;
  if (res.timed_out) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return res;
  }
  // Output closed: the child is exiting; wait for it within the deadline.
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return res;
    if (std::chrono::steady_clock::now() >= deadline || (cancel && cancel->load())) {
      res.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return res;
    }
    ::usleep(5000);
  }
  res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return res;
}

}  // namespace heartbeat::server::detail
