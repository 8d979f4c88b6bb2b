// hbc_mini: the single-file Heartbeat client. Parses the command line and runs what
// include/heartbeat/mini.hpp defines.
#include <cstdio>
#include <cstring>

#include "heartbeat/core/version.hpp"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--version")) {
      std::printf("hbc_mini %s\n", heartbeat::version);
      return 0;
    }
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::printf("usage: hbc_mini [-c FILE] [-d] [-b] [--boot] [-m TEXT] [-v] SERVER\n");
      return 0;
    }
  }
  std::fprintf(stderr, "hbc_mini: not implemented yet\n");
  return 1;
}
