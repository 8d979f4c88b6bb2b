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
  bool foreground = false, verbose = false, print_config = false;
  cli.add_option("-c,--config", config_path, "config file (YAML or JSON); default ~/.hb.yaml if present");
  cli.add_flag("-f,--foreground", foreground, "stay in the foreground, log to stderr");
  cli.add_flag("-v,--verbose", verbose, "debug logging");
  cli.add_flag("--print-config", print_config,
               "print the configuration in force (defaults filled in, secrets masked) and exit");

  auto* check = cli.add_subcommand("check-config", "validate a config file; exit 2 on any error");
  check->add_option("-c,--config", config_path, "config file");
  std::string passwd_user;
  auto* passwd = cli.add_subcommand("passwd", "read a password from stdin and print its pbkdf2:sha256 hash");
  passwd->add_option("USER", passwd_user, "user name")->required();
  std::string file;
  auto* backup = cli.add_subcommand(
      "backup", "write a consistent copy of the store (state_db) to FILE, also while hbd runs");
  backup->add_option("FILE", file, "the backup file to write")->required();
  backup->add_option("-c,--config", config_path, "config file (names state_db)");
  auto* restore =
      cli.add_subcommand("restore", "replace the store (state_db) with the backup FILE; hbd must be stopped");
  restore->add_option("FILE", file, "the backup file to read")->required();
  restore->add_option("-c,--config", config_path, "config file (names state_db)");
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
  if (*backup) return run::backup(config_path, file);
  if (*restore) return run::restore(config_path, file);
  if (print_config) return run::print_config(config_path);
  return run::serve(config_path, foreground, verbose);
}
