// tool_echo: the raw UDP baseline for hbd's benchmark. Receives datagrams with
// recvmmsg (batches of 64) and answers each with a 40-byte reply via sendmmsg,
// doing no parsing at all: what the kernel allows for the heartbeat pattern on
// this machine. Single thread. Usage: tool_echo PORT [SECONDS]
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tool_echo PORT [SECONDS]\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  double seconds = argc > 2 ? std::atof(argv[2]) : 3600;
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int buf = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) == 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("tool_echo: bind");
    return 1;
  }
  timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  constexpr unsigned batch = 64;
  static char rx[batch][2048];
  static sockaddr_in from[batch];
  mmsghdr rh[batch]{}, th[batch]{};
  iovec riov[batch], tiov[batch];
  static const char reply[] = "{\"ID\":\"ACK\",\"seq\":1,\"request_update\":0}";  // 40 bytes
  unsigned long long total = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    for (unsigned i = 0; i < batch; ++i) {
      riov[i] = {rx[i], sizeof rx[i]};
      rh[i].msg_hdr = {};
      rh[i].msg_hdr.msg_name = &from[i];
      rh[i].msg_hdr.msg_namelen = sizeof from[i];
      rh[i].msg_hdr.msg_iov = &riov[i];
      rh[i].msg_hdr.msg_iovlen = 1;
    }
    int n = ::recvmmsg(fd, rh, batch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;
    for (int i = 0; i < n; ++i) {
      tiov[i] = {const_cast<char*>(reply), sizeof reply - 1};
      th[i].msg_hdr = {};
      th[i].msg_hdr.msg_name = &from[i];
      th[i].msg_hdr.msg_namelen = rh[i].msg_hdr.msg_namelen;
      th[i].msg_hdr.msg_iov = &tiov[i];
      th[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = 0;
    while (sent < n) {
      int k = ::sendmmsg(fd, th + sent, static_cast<unsigned>(n - sent), 0);
      if (k <= 0) break;
      sent += k;
    }
    total += static_cast<unsigned long long>(n);
  }
  std::printf("tool_echo: answered %llu datagrams\n", total);
  return 0;
}
