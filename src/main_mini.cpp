// hbc_mini: the single-file Heartbeat client. Parses the command line and runs what
// include/heartbeat/mini.hpp defines. Builds with no third-party code:
//   g++ -std=c++20 -O2 -Iinclude src/main_mini.cpp -o hbc_mini
#include <cstdio>
#include <cstring>
#include <string>

#include "heartbeat/mini.hpp"

namespace {

const char* usage =
    "usage: hbc_mini [-c FILE] [-d] [-b] [--boot] [-m TEXT] [-v] SERVER\n"
    "  -c FILE   configuration (JSON; default ~/.hbc.json when it exists)\n"
    "  -d        daemonize, log to syslog\n"
    "  -b        send boot and shutdown messages on start and exit\n"
    "  --boot    send one boot message and exit\n"
    "  -m TEXT   send one message and exit\n"
    "  -v        verbose (debug) logging\n"
    "  --help, --version\n";

int usage_error(const char* what) {
  std::fprintf(stderr, "hbc_mini: %s\n%s", what, usage);
  return heartbeat::mini::exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  heartbeat::mini::run_options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--version") {
      std::printf("hbc_mini %s\n", heartbeat::version);
      return 0;
    }
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    }
    if (a == "-c" || a == "-m") {
      if (i + 1 >= argc) return usage_error((a + " needs a value").c_str());
      (a == "-c" ? o.config_path : o.message.emplace()) = argv[++i];
    } else if (a == "-d") {
      o.daemonize = true;
    } else if (a == "-b") {
      o.boot_messages = true;
    } else if (a == "--boot") {
      o.boot_only = true;
    } else if (a == "-v") {
      o.verbose = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error(("unknown option " + a).c_str());
    } else if (o.server.empty()) {
      o.server = a;
    } else {
      return usage_error("only one SERVER");
    }
  }
  if (o.server.empty()) return usage_error("SERVER is required");
  return heartbeat::mini::run(o);
}
