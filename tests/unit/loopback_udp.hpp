// Binding a UDP socket to 127.0.0.1 on a port the kernel picks, for tests that stand in for a
// server on loopback or need a free port (tests in several areas include it).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

namespace hbtest {

// Binds `fd` (an AF_INET datagram socket) to 127.0.0.1 and a free port; returns the port.
inline std::uint16_t bind_loopback(int fd) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

}  // namespace hbtest
