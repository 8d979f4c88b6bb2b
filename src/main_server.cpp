// hbd: the Heartbeat server. Parses the command line and runs what
// include/heartbeat/hbd/cli.hpp defines. Exit status: 0 success,
// 1 runtime error, 2 usage or configuration error (one line on stderr).
#include <CLI/CLI.hpp>
#include <string>

#include "heartbeat/core/version.hpp"
#include "heartbeat/hbd/cli.hpp"

int main(int argc, char** argv) {
  namespace run = heartbeat::hbd::cli;
  CLI::App cli{"hbd: the Heartbeat server (UDP heartbeats, host state, alerts, HTTP API)", "hbd"};
  cli.set_version_flag("--version", std::string("hbd ") + heartbeat::version);
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
    return run::fail(run::exit_usage, std::string(e.what()) + " (see hbd --help)");
  }

  if (*passwd) return run::passwd(passwd_user);
  if (*check) return run::check_config(config_path);
  return run::serve(config_path, foreground, verbose);
}
