// hbc: the Heartbeat client. Parses the command line and runs what
// include/heartbeat/client.hpp defines.
#include <cstdio>
#include <cstring>

#include "heartbeat/core/version.hpp"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--version")) {
      std::printf("hbc %s\n", heartbeat::version);
      return 0;
    }
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::printf("usage: hbc [-c FILE] [-d] [-b] [--boot] [-m TEXT] [-v] SERVER\n");
      return 0;
    }
  }
  std::fprintf(stderr, "hbc: not implemented yet\n");
  return 1;
}
