// hbc_mini's subprocesses (ping, df, Nagios plugins, allow-listed commands): argv
// only, no shell; stdout and stderr read through the main poll loop so that a slow
// child never stops heartbeats; a timeout kills the child's whole process group.
// The POSIX twin of net/subprocess.hpp (hbc_mini includes no Asio): children get
// the same treatment (descriptors 0-2 only, own group, default signals). Main thread only.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <list>
#include <string>
#include <vector>

extern char** environ;

namespace heartbeat::mini {

struct process_result {
  bool spawned = false;
  int rc = 0;  // exit status; negative: killed by that signal
  bool timed_out = false;
  std::string out, err;
  std::string error;  // why it could not be started
};

inline double mono_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

class child_set {
 public:
  using callback = std::function<void(process_result&&)>;

  child_set() = default;
  child_set(const child_set&) = delete;
  child_set& operator=(const child_set&) = delete;
  ~child_set() { kill_all(); }

  // Starts argv[0] (looked up in PATH when it has no '/'); `cb` runs from poll_done()
  // once the child has exited and both pipes are drained (or the timeout hit).
  void spawn(const std::vector<std::string>& argv, double timeout, std::size_t max_output,
             const std::vector<std::string>& extra_env, callback cb) {
    process_result r;
    if (argv.empty() || argv[0].empty()) {
      r.error = "empty command";
      return cb(std::move(r));
    }
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
      r.error = std::string("pipe: ") + std::strerror(errno);
      return cb(std::move(r));
    }
    if (::pipe2(err, O_CLOEXEC) != 0) {
      ::close(out[0]);
      ::close(out[1]);
      r.error = std::string("pipe: ") + std::strerror(errno);
      return cb(std::move(r));
    }
    // Everything the child needs is prepared before fork (no allocation after it).
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env;
    for (char** e = environ; e && *e; ++e) env.push_back(*e);
    for (const auto& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);
    sigset_t none;
    sigemptyset(&none);
    long max_fd = ::sysconf(_SC_OPEN_MAX);
    pid_t pid = ::fork();
    if (pid < 0) {
      for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
      r.error = std::string("fork: ") + std::strerror(errno);
      return cb(std::move(r));
    }
    if (pid == 0) {
      ::setpgid(0, 0);
      int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (devnull >= 0) ::dup2(devnull, 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      close_from(3, max_fd);  // the UDP sockets, the resolver's, other children's pipes
      for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execvpe(args[0], args.data(), env.data());
      const char* msg = "exec failed: ";
      (void)!::write(2, msg, std::strlen(msg));
      (void)!::write(2, args[0], std::strlen(args[0]));
      (void)!::write(2, "\n", 1);
      ::_exit(127);
    }
    ::setpgid(pid, pid);
    ::close(out[1]);
    ::close(err[1]);
    ::fcntl(out[0], F_SETFL, O_NONBLOCK);
    ::fcntl(err[0], F_SETFL, O_NONBLOCK);
    child c;
    c.pid = pid;
    c.fd_out = out[0];
    c.fd_err = err[0];
    c.deadline = mono_now() + timeout;
    c.max_output = max_output;
    c.result.spawned = true;
    c.cb = std::move(cb);
    children_.push_back(std::move(c));
  }

  bool empty() const noexcept { return children_.empty(); }
  std::size_t size() const noexcept { return children_.size(); }

  // Appends a pollfd per open pipe.
  void add_pollfds(std::vector<pollfd>& fds) const {
    for (const auto& c : children_) {
      if (c.fd_out >= 0) fds.push_back({c.fd_out, POLLIN, 0});
      if (c.fd_err >= 0) fds.push_back({c.fd_err, POLLIN, 0});
    }
  }

  // How long the poll loop may sleep for the children's sake (seconds).
  double wait_hint(double now) const {
    double w = 3600;
    for (const auto& c : children_) {
      if (c.fd_out < 0 && c.fd_err < 0) w = std::min(w, 0.01);  // exited pipes, waiting to reap
      w = std::min(w, std::max(0.0, c.deadline - now));
    }
    return w;
  }

  // Reads what the pipes have, enforces timeouts, reaps exited children and runs
  // their callbacks (which may spawn more children).
  void poll_done() {
    double now = mono_now();
    std::vector<child> finished;
    for (auto it = children_.begin(); it != children_.end();) {
      child& c = *it;
      drain(c.fd_out, c.result.out, c.max_output);
      drain(c.fd_err, c.result.err, c.max_output);
      if (!c.killed && now >= c.deadline) {
        ::kill(-c.pid, SIGKILL);
        ::kill(c.pid, SIGKILL);
        c.killed = true;
        c.result.timed_out = true;
        close_fd(c.fd_out);
        close_fd(c.fd_err);
      }
      if (c.fd_out < 0 && c.fd_err < 0) {
        int status = 0;
        pid_t w = ::waitpid(c.pid, &status, c.killed ? 0 : WNOHANG);
        if (w == c.pid || (w < 0 && errno == ECHILD)) {
          if (w == c.pid) {
            if (WIFEXITED(status))
              c.result.rc = WEXITSTATUS(status);
            else if (WIFSIGNALED(status))
              c.result.rc = -WTERMSIG(status);
          }
          finished.push_back(std::move(c));
          it = children_.erase(it);
          continue;
        }
      }
      ++it;
    }
    for (auto& c : finished) c.cb(std::move(c.result));
  }

  void kill_all() {
    for (auto& c : children_) {
      ::kill(-c.pid, SIGKILL);
      ::kill(c.pid, SIGKILL);
      close_fd(c.fd_out);
      close_fd(c.fd_err);
      int status;
      ::waitpid(c.pid, &status, 0);
    }
    children_.clear();
  }

 private:
  struct child {
    pid_t pid = -1;
    int fd_out = -1, fd_err = -1;
    double deadline = 0;
    std::size_t max_output = 0;
    bool killed = false;
    process_result result;
    callback cb;
  };
  std::list<child> children_;

  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  // In the forked child: closes every descriptor from `low` up, whatever its
  // close-on-exec flag (close_range(2); one close per possible descriptor without it).
  static void close_from(int low, long max_fd) {
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, static_cast<unsigned>(low), ~0u, 0u) == 0) return;
#endif
    for (long fd = low; fd < (max_fd > 0 ? max_fd : 65536); ++fd) ::close(static_cast<int>(fd));
  }

  // Reads until EAGAIN; EOF closes the pipe. Output past max_output is read and dropped.
  static void drain(int& fd, std::string& into, std::size_t max_output) {
    if (fd < 0) return;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        std::size_t room = into.size() < max_output ? max_output - into.size() : 0;
        into.append(buf, std::min<std::size_t>(room, static_cast<std::size_t>(n)));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      close_fd(fd);
      return;
    }
  }
};

}  // namespace heartbeat::mini
