// hbd: the Heartbeat server. Parses the command line, loads the config and
// runs what include/heartbeat/server.hpp defines. Exit status: 0 success,
// 1 runtime error, 2 usage or configuration error (one line on stderr).
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "heartbeat/api/password.hpp"
#include "heartbeat/core/daemon.hpp"
#include "heartbeat/core/version.hpp"
#include "heartbeat/server.hpp"

namespace hb = heartbeat;
namespace hbd = heartbeat::hbd;

namespace {

int fail(int code, const std::string& line) {
  std::fprintf(stderr, "hbd: %s\n", line.c_str());
  return code;
}

std::string default_config_path() {
  const char* home = std::getenv("HOME");
  if (!home || !*home) return {};
  std::string p = std::string(home) + "/.hb.yaml";
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? p : std::string();
}

// Loads `path` (or the default); prints diagnostics. Returns false on errors.
bool load(const std::string& given, hbd::config& out, bool print_all, bool& had_errors) {
  std::string path = given.empty() ? default_config_path() : given;
  // Absolute, so that SIGHUP still finds it after daemonizing (chdir /).
  if (!path.empty()) {
    if (char* abs = ::realpath(path.c_str(), nullptr)) {
      path = abs;
      std::free(abs);
    }
  }
  hb::config::diagnostics diag;
  if (path.empty()) {
    out = hbd::load_config(hb::json::value::object(), diag);
  } else {
    out = hbd::load_config_file(path, diag);
  }
  had_errors = diag.has_errors();
  for (const auto& d : diag.items) {
    if (d.is_error || print_all)
      std::fprintf(stderr, "%s%s\n", d.is_error ? "" : "warning: ", d.text().c_str());
    else
      hb::log::warn("config: ", d.text());
  }
  return !had_errors;
}

std::string read_password() {
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

// Detaches from the terminal (no -f): fork, setsid, stdio to /dev/null.
bool daemonize() { return heartbeat::detach_from_terminal(); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"hbd: the Heartbeat server (UDP heartbeats, host state, alerts, HTTP API)", "hbd"};
  cli.set_version_flag("--version", std::string("hbd ") + hb::version);
  std::string config_path;
  bool foreground = false, verbose = false;
  cli.add_option("-c,--config", config_path, "config file (YAML or JSON); default ~/.hb.yaml if present");
  cli.add_flag("-f,--foreground", foreground, "stay in the foreground, log to stderr");
  cli.add_flag("-v,--verbose", verbose, "debug logging");

  auto* check = cli.add_subcommand("check-config", "validate a config file; exit 2 on any error");
  check->add_option("-c,--config", config_path, "config file");
  std::string passwd_user;
  auto* passwd = cli.add_subcommand("passwd", "read a password from stdin and print its pbkdf2:sha256 hash");
  passwd->add_option("USER", passwd_user, "user name")->required();
  cli.require_subcommand(0, 1);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(2, std::string(e.what()) + " (see hbd --help)");
  }

  if (*passwd) {
    if (!hb::protocol::valid_host_name(passwd_user))
      return fail(2, "passwd: not a valid user name: " + passwd_user);
    std::string pw = read_password();
    if (pw == "\x01mismatch") return fail(2, "passwd: the passwords do not match");
    if (pw.empty()) return fail(2, "passwd: empty password");
    auto h = hb::api::hash_password(pw);
    if (!h) return fail(1, "passwd: " + h.err().message);
    std::printf("%s\n", h->c_str());
    return 0;
  }

  if (*check) {
    hbd::config c;
    bool errors = false;
    load(config_path, c, true, errors);
    if (errors) return 2;
    std::printf("%s: OK\n", c.source.empty() ? "built-in defaults" : c.source.c_str());
    return 0;
  }

  if (verbose) hb::log::set_level(hb::log::level::debug);
  hbd::config c;
  bool errors = false;
  if (!load(config_path, c, false, errors)) {
    return fail(2, "configuration has errors (run `hbd check-config" +
                       (config_path.empty() ? std::string() : " -c " + config_path) + "`)");
  }
  if (!c.logfile.empty()) {
    int fd = ::open(c.logfile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return fail(2, "logfile: cannot open " + c.logfile + ": " + std::strerror(errno));
    if (!foreground && !daemonize()) return fail(1, "cannot daemonize");
    ::dup2(fd, 2);
    ::close(fd);
  } else if (!foreground) {
    if (!daemonize()) return fail(1, "cannot daemonize");
    hb::log::use_syslog("hbd");
  }

  try {
    hbd::app a(std::move(c));
    if (auto r = a.start(); !r) return fail(r.err().code == "tls" ? 2 : 1, r.err().message);
    a.run();
  } catch (const std::exception& e) {
    return fail(1, e.what());
  }
  hb::log::info("hbd: stopped");
  return 0;
}
