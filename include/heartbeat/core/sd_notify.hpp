// Readiness and status for systemd's Type=notify services (hbd, hbc, hbc_mini): the datagram
// protocol of sd_notify(3), written by hand because hbc_mini is static and depends on nothing, and
// the protocol is a documented, stable interface (a line "READY=1" sent to the AF_UNIX datagram
// socket named by $NOTIFY_SOCKET). Without $NOTIFY_SOCKET every call does nothing. Main or io
// thread; take_socket() runs once at start-up, before any other thread.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace heartbeat::sd {

namespace detail {
inline std::string& socket_path() {
  static std::string path;
  return path;
}
}  // namespace detail

// Reads $NOTIFY_SOCKET once and removes it from the environment, so that the programs hbd and hbc
// start (plugins, nsupdate) do not see it. Returns whether a service manager listens.
inline bool take_socket() {
  if (const char* s = std::getenv("NOTIFY_SOCKET"); s && *s) {
    detail::socket_path() = s;
    ::unsetenv("NOTIFY_SOCKET");
  }
  return !detail::socket_path().empty();
}

// Sends `state` ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...", lines joined by '\n').
// False when no service manager listens or the datagram could not be sent.
inline bool notify(std::string_view state) {
  const std::string& path = detail::socket_path();
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) return false;
  if (path[0] != '/' && path[0] != '@') return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // an abstract socket
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  ::close(fd);
  return n == static_cast<ssize_t>(state.size());
}

}  // namespace heartbeat::sd
