// hbd: the Heartbeat server. Parses the command line and runs what
// include/heartbeat/server.hpp defines.
#include <cstdio>
#include <cstring>

#include "heartbeat/core/version.hpp"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--version")) {
      std::printf("hbd %s\n", heartbeat::version);
      return 0;
    }
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::printf("usage: hbd [-c FILE] [-f] [-v]\n");
      return 0;
    }
  }
  std::fprintf(stderr, "hbd: not implemented yet\n");
  return 1;
}
