// Detaching a process from its terminal, shared by hbd, hbc and hbc_mini (so
// dependency-free). Called once on the main thread before any other thread starts.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>

namespace heartbeat {

// Classic double fork (the second child can never reacquire a terminal), a new
// session, working directory "/" (so no mount stays busy) and stdio on /dev/null.
// Returns false in the (still attached) process when a step fails.
inline bool detach_from_terminal() {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid > 0) std::_Exit(0);
  ::setsid();
  pid = ::fork();
  if (pid < 0) return false;
  if (pid > 0) std::_Exit(0);
  if (::chdir("/") != 0) return false;
  int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);  // dup2 gives 0-2 without the flag
  if (fd >= 0) {
    ::dup2(fd, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (fd > 2) ::close(fd);
  }
  return true;
}

}  // namespace heartbeat
