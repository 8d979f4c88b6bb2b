// hbc_mini: the single-file Heartbeat client. Parses the command line and runs what
// include/heartbeat/mini.hpp defines. Builds with no third-party code:
//   g++ -std=c++20 -O2 -Iinclude src/main_mini.cpp -o hbc_mini
#include <cstdio>
#include <string>

#include "heartbeat/mini.hpp"

int main(int argc, char** argv) {
  namespace mini = heartbeat::mini;
  mini::run_options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--version") {
      std::printf("hbc_mini %s\n", heartbeat::version);
      return 0;
    }
    if (a == "--help" || a == "-h") {
      std::fputs(mini::usage, stdout);
      return 0;
    }
    if (a == "-c" || a == "-m") {
      if (i + 1 >= argc) return mini::usage_error((a + " needs a value").c_str());
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
      return mini::usage_error(("unknown option " + a).c_str());
    } else {
      o.servers.push_back(a);  // SERVER [SERVER...]: several hbd nodes
    }
  }
  if (o.servers.empty()) return mini::usage_error("SERVER is required");
  return mini::run(o);
}
