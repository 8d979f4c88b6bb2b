// What the subprocess tests of hbc/hbd (net/) and hbc_mini (mini/) check about a
// child from outside: which descriptors `ls /proc/self/fd` saw, and whether a
// process (a killed child's grandchild) is still alive.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace hbtest {

// The descriptor numbers in `ls /proc/self/fd` output (one name per line).
inline std::set<int> fd_numbers(const std::string& ls_output) {
  std::set<int> out;
  std::istringstream in(ls_output);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.insert(std::stoi(line));
  return out;
}

// A socket without SOCK_CLOEXEC (as Asio opens them): a child would inherit it
// unless the runner closes descriptors past 2. Closed at scope end.
struct inheritable_socket {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  inheritable_socket() = default;
  inheritable_socket(const inheritable_socket&) = delete;
  inheritable_socket& operator=(const inheritable_socket&) = delete;
  ~inheritable_socket() {
    if (fd >= 0) ::close(fd);
  }
};

// True while `pid` runs: it has a /proc entry and is not a zombie (a killed
// orphan may wait as a zombie until init reaps it, which counts as gone).
inline bool process_alive(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(f, stat)) return false;
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= stat.size()) return false;
  char state = stat[close_paren + 2];
  return state != 'Z' && state != 'X';
}

// Waits up to `limit` for `pid` to be gone (SIGKILL is delivered asynchronously).
inline bool gone_within(int pid, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (process_alive(pid)) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace hbtest
