// hbc: the Heartbeat client. Parses the command line and runs what
// include/heartbeat/client/cli.hpp defines.
#include <CLI/CLI.hpp>

#include "heartbeat/client.hpp"

int main(int argc, char** argv) {
  namespace hc = heartbeat::client;
  hc::run_options o;
  std::string message;
  CLI::App cli{"hbc: the Heartbeat client (heartbeats and plugin data over UDP to hbd)", "hbc"};
  cli.set_version_flag("--version", std::string("hbc ") + heartbeat::version);
  cli.add_option("-c,--config", o.config_path, "YAML or JSON config file (default ~/.hbc.yaml)");
  cli.add_flag("-d,--daemon", o.daemonize, "run in the background, log to syslog (LOG_DAEMON)");
  cli.add_flag("-b", o.boot_messages, "send boot and shutdown messages on start and exit");
  cli.add_flag("--boot", o.boot_only, "send one boot message and exit");
  auto* m = cli.add_option("-m,--message", message, "send one message and exit");
  cli.add_flag("-v,--verbose", o.verbose, "log debug details");
  cli.add_option("SERVER", o.servers, "hbd host name or address; several for several hbd nodes")->required();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = cli.exit(e);
    return rc == 0 ? 0 : hc::exit_usage;
  }
  if (m->count()) o.message = message;
  return hc::run(o);
}
