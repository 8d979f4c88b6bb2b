// hbc_mini's command-line texts: the usage message and the one-line usage error
// (exit 2) that src/main_mini.cpp prints while parsing. Standard library only;
// main thread.
#pragma once

#include <cstdio>

#include "heartbeat/mini/app.hpp"

namespace heartbeat::mini {

inline constexpr const char* usage =
    "usage: hbc_mini [-c FILE] [-d] [-b] [--boot] [-m TEXT] [-v] SERVER [SERVER...]\n"
    "  SERVER    hbd host name or address; several for several hbd nodes (each gets everything)\n"
    "  -c FILE   configuration (JSON; default ~/.hbc.json when it exists)\n"
    "  -d        daemonize, log to syslog\n"
    "  -b        send boot and shutdown messages on start and exit\n"
    "  --boot    send one boot message and exit\n"
    "  -m TEXT   send one message and exit\n"
    "  -v        verbose (debug) logging\n"
    "  --help, --version\n";

// "hbc_mini: <what>" and the usage on stderr; returns exit_usage.
inline int usage_error(const char* what) {
  std::fprintf(stderr, "hbc_mini: %s\n%s", what, usage);
  return exit_usage;
}

}  // namespace heartbeat::mini
