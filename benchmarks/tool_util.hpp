// What the load and measurement tools share: clocks read as seconds, and the value after an
// option on the command line (exit 2 with a message when it is missing).
#pragma once

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace tool {

inline double seconds(clockid_t id) {
  timespec t{};
  ::clock_gettime(id, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
inline double mono() { return seconds(CLOCK_MONOTONIC); }
inline double wall() { return seconds(CLOCK_REALTIME); }
inline double cpu_seconds() { return seconds(CLOCK_PROCESS_CPUTIME_ID); }  // this process, all threads

// The value of option argv[i] (advancing i), for `name`'s messages.
inline const char* arg_value(const char* name, int argc, char** argv, int& i) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "%s: %s needs a value\n", name, argv[i]);
    std::exit(2);
  }
  return argv[++i];
}

}  // namespace tool
