// What hbc and hbc_mini share before they run: the command-line options, the exit statuses and
// the reading of the configuration file (which file, the diagnostics on stderr). Apart from
// client/config.hpp because it reads files through config/file.hpp, whose YAML support hbc_mini
// leaves out (HB_CONFIG_NO_YAML). Start-up only, main thread.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/client/config.hpp"
#include "heartbeat/config/file.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::client {

struct run_options {
  std::vector<std::string> servers;  // SERVER [SERVER...]: every hbd node gets everything
  std::string config_path;           // empty: ~/.hbc.yaml (hbc) or ~/.hbc.json (hbc_mini) when it exists
  bool daemonize = false;
  bool boot_messages = false;          // -b
  bool boot_only = false;              // --boot
  std::optional<std::string> message;  // -m
  bool verbose = false;
  bool reloaded = false;  // started again after SIGHUP: no boot message
};

// Exit status (docs/CLIENT.md): 0 success, 1 runtime error, 2 usage or configuration error.
inline constexpr int exit_ok = 0, exit_runtime = 1, exit_usage = 2;

// The configuration as hbc and hbc_mini read it: the file at `path`, else ~/<home_file> when
// that exists, else none (every key at its default). `check(root, cfg, diagnostics)` adds what
// the program checks besides (its plugins' options). Every diagnostic is logged as
// `<who>: <file>: <message>`; nullopt when the file cannot be read or on any error.
template <class Check>
std::optional<client_config> load_config_file(std::string path, std::string_view home_file,
                                              std::string_view who, Check&& check) {
  json::value root = json::value::object();
  if (path.empty()) {
    if (const char* home = std::getenv("HOME")) {
      std::string p = std::string(home) + "/" + std::string(home_file);
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0) path = p;
    }
  }
  if (!path.empty()) {
    auto v = config::load_file(path);
    if (!v) {
      log::error(who, ": ", v.err().message);
      return std::nullopt;
    }
    root = std::move(*v);
  }
  config::diagnostics d;
  client_config cfg = load_client_config(root, d);
  check(root, cfg, d);
  std::string where = path.empty() ? std::string("config") : path;
  for (const auto& item : d.items) {
    if (item.is_error)
      log::error(who, ": ", where, ": ", item.text());
    else
      log::warn(who, ": ", where, ": ", item.text());
  }
  if (d.has_errors()) return std::nullopt;
  return cfg;
}

}  // namespace heartbeat::client
