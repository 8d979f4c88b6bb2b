// What hbd's command line does once parsed (src/main_server.cpp): `hbd passwd`
// with its terminal prompt, `hbd check-config`, `hbd --print-config`, `hbd backup`
// and `hbd restore` (the store, docs/OPERATIONS.md), and the server itself: the
// config file (default ~/.hb.yaml) with its diagnostics, the log file or syslog,
// daemonizing, then hbd::app (readiness reported to systemd). Main thread, before
// any other thread starts. Each returns the exit status: 0 success, 1 runtime
// error, 2 usage or configuration error (one line on stderr).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <utility>

#include "heartbeat/api/password.hpp"
#include "heartbeat/config/yaml.hpp"
#include "heartbeat/core/daemon.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/sd_notify.hpp"
#include "heartbeat/hbd/app.hpp"
#include "heartbeat/hbd/config.hpp"
#include "heartbeat/hbd/registry_backend.hpp"
#include "heartbeat/protocol/messages.hpp"
#include "heartbeat/server/backup.hpp"

namespace heartbeat::hbd::cli {

inline constexpr int exit_ok = 0, exit_runtime = 1, exit_usage = 2;

// Prints "hbd: <line>" on stderr and returns `code`.
inline int fail(int code, const std::string& line) {
  std::fprintf(stderr, "hbd: %s\n", line.c_str());
  return code;
}

// ~/.hb.yaml when it exists, else "" (built-in defaults).
inline std::string default_config_path() {
  const char* home = std::getenv("HOME");
  if (!home || !*home) return {};
  std::string p = std::string(home) + "/.hb.yaml";
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? p : std::string();
}

// Loads `given` (or the default) into `out`. Errors, and with `print_all` also
// warnings, go to stderr; other warnings to the log. False on any error.
inline bool load(const std::string& given, config& out, bool print_all) {
  std::string path = given.empty() ? default_config_path() : given;
  // Absolute, so that SIGHUP still finds it after daemonizing (chdir /).
  if (!path.empty()) {
    if (char* abs = ::realpath(path.c_str(), nullptr)) {
      path = abs;
      std::free(abs);
    }
  }
  cfg::diagnostics diag;
  out = path.empty() ? load_config(json::value::object(), diag) : load_config_file(path, diag);
  for (const auto& d : diag.items) {
    if (d.is_error || print_all)
      std::fprintf(stderr, "%s%s\n", d.is_error ? "" : "warning: ", d.text().c_str());
    else
      log::warn("config: ", d.text());
  }
  return !diag.has_errors();
}

// One line from stdin; on a terminal, asked twice without echo ("\x01mismatch"
// when the two answers differ).
inline std::string read_password() {
  std::string pw;
  if (::isatty(0)) {
    termios old{};
    ::tcgetattr(0, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    std::fprintf(stderr, "Password: ");
    ::tcsetattr(0, TCSANOW, &quiet);
    std::getline(std::cin, pw);
    std::fprintf(stderr, "\nRepeat: ");
    std::string again;
    std::getline(std::cin, again);
    ::tcsetattr(0, TCSANOW, &old);
    std::fprintf(stderr, "\n");
    if (again != pw) return std::string("\x01mismatch");
  } else {
    std::getline(std::cin, pw);
  }
  if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  return pw;
}

// `hbd passwd USER`: prints the pbkdf2:sha256 hash of the password read.
inline int passwd(const std::string& user) {
  if (!protocol::valid_host_name(user)) return fail(exit_usage, "passwd: not a valid user name: " + user);
  std::string pw = read_password();
  if (pw == "\x01mismatch") return fail(exit_usage, "passwd: the passwords do not match");
  if (pw.empty()) return fail(exit_usage, "passwd: empty password");
  auto h = api::hash_password(pw);
  if (!h) return fail(exit_runtime, "passwd: " + h.err().message);
  std::printf("%s\n", h->c_str());
  return exit_ok;
}

// `hbd check-config [-c FILE]`: every diagnostic on stderr, "<file>: OK" on stdout.
inline int check_config(const std::string& path) {
  config c;
  if (!load(path, c, true)) return exit_usage;
  std::printf("%s: OK\n", c.source.empty() ? "built-in defaults" : c.source.c_str());
  return exit_ok;
}

// `hbd --print-config [-c FILE]`: the configuration in force as YAML on stdout, defaults filled
// in and secrets masked (what GET /api/0/config shows); problems on stderr, exit 2 on an error.
inline int print_config(const std::string& path) {
  config c;
  if (!load(path, c, true)) return exit_usage;
  std::fputs(heartbeat::config::to_yaml(redact_secrets(effective_config(c))).c_str(), stdout);
  return exit_ok;
}

// `hbd backup FILE [-c FILE]`: a consistent copy of the store (state_db), also while hbd runs.
inline int backup(const std::string& config_path, const std::string& file) {
  config c;
  if (!load(config_path, c, false))
    return fail(exit_usage, "configuration has errors (run `hbd check-config`)");
  auto r = server::backup_store(c.state_db, file);
  if (!r) return fail(exit_runtime, "backup: " + r.err().message);
  std::printf("hbd: %s backed up to %s (%llu bytes)\n", c.state_db.c_str(), file.c_str(),
              static_cast<unsigned long long>(*r));
  return exit_ok;
}

// `hbd restore FILE [-c FILE]`: replaces the store with a backup; refused while hbd runs on it.
inline int restore(const std::string& config_path, const std::string& file) {
  config c;
  if (!load(config_path, c, false))
    return fail(exit_usage, "configuration has errors (run `hbd check-config`)");
  auto r = server::restore_store(file, c.state_db);
  if (!r) return fail(exit_runtime, "restore: " + r.err().message);
  std::printf("hbd: %s restored from %s (the replaced store is %s.before-restore)\n", c.state_db.c_str(),
              file.c_str(), c.state_db.c_str());
  return exit_ok;
}

// `hbd [-c FILE] [-f] [-v]`: runs the server until SIGINT or SIGTERM. Without -f it
// detaches from the terminal and logs to the log file, or else to syslog.
inline int serve(const std::string& config_path, bool foreground, bool verbose) {
  sd::take_socket();
  if (verbose) log::set_level(log::level::debug);
  config c;
  if (!load(config_path, c, false)) {
    return fail(exit_usage, "configuration has errors (run `hbd check-config" +
                                (config_path.empty() ? std::string() : " -c " + config_path) + "`)");
  }
  if (!c.logfile.empty()) {
    int fd = ::open(c.logfile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return fail(exit_usage, "logfile: cannot open " + c.logfile + ": " + std::strerror(errno));
    if (!foreground && !detach_from_terminal()) return fail(exit_runtime, "cannot daemonize");
    ::dup2(fd, 2);
    ::close(fd);
  } else if (!foreground) {
    if (!detach_from_terminal()) return fail(exit_runtime, "cannot daemonize");
    log::use_syslog("hbd");
  }
  try {
    app a(std::move(c));
    if (auto r = a.start(); !r)
      return fail(r.err().code == "tls" ? exit_usage : exit_runtime, r.err().message);
    sd::notify("READY=1\nSTATUS=serving (udp port " + std::to_string(a.udp_port()) + ")");
    a.run();
  } catch (const std::exception& e) {
    return fail(exit_runtime, e.what());
  }
  log::info("hbd: stopped");
  return exit_ok;
}

}  // namespace heartbeat::hbd::cli
