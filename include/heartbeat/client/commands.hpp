// Acts on the server's CMD and UPD (the transport hands over only
// authenticated ones): runs the allow-listed argv from `commands:` or the
// `upgrade_command` (no shell, with a timeout), answers RES with rc and output,
// refuses everything else with a RES saying why, and remembers answered cmd_ids
// so a repeated CMD is answered again instead of run twice (also when two hbd
// nodes deliver the same command). hbc's io thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "heartbeat/client/config.hpp"
#include "heartbeat/client/transport.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/net/subprocess.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::client {

// rc of a refused CMD/UPD (the shell's "command not found").
inline constexpr int refused_rc = 127;

// Output for RES: stdout then stderr, valid UTF-8, at most 4 KiB.
inline std::string result_output(const net::process_result& r) {
  std::string s = r.out;
  if (!r.err.empty()) {
    if (!s.empty() && s.back() != '\n') s.push_back('\n');
    s += r.err;
  }
  if (r.timed_out) s += (s.empty() ? "" : "\n") + std::string("killed: timed out");
  return readers::valid_utf8_prefix(s, protocol::max_output_bytes);
}

class command_runner {
 public:
  // Sends a RES on connection `conn` (the one the CMD came in on; app.hpp numbers them across
  // servers).
  using reply_fn =
      std::function<void(std::size_t conn, const std::string& cmd_id, int rc, const std::string& output)>;

  command_runner(asio::any_io_executor ex, const client_config& cfg, reply_fn reply)
      : ex_(std::move(ex)), cfg_(cfg), reply_(std::move(reply)) {}
  command_runner(asio::any_io_executor ex, const client_config& cfg, transport& t)
      : command_runner(std::move(ex), cfg,
                       [&t](std::size_t conn, const std::string& id, int rc, const std::string& out) {
                         t.send_result(conn, id, rc, out);
                       }) {}

  void on_command(std::size_t conn, const protocol::command_msg& cmd) {
    if (answer_again(conn, cmd.cmd_id)) return;
    auto allowed = allow_command(cfg_, cmd);
    if (!allowed) {
      finish(conn, cmd.cmd_id, refused_rc, allowed.err().message);
      if (allowed.err().code == "not_allowed")
        log::warn("commands: refused ", cmd.cmd_id, ": \"", cmd.command, "\" is not allow-listed");
      return;
    }
    log::info("commands: running ", cmd.cmd_id, ": ", cmd.command);
    run(conn, cmd.cmd_id, std::move(allowed->argv), allowed->spec->timeout, {});
  }

  void on_upgrade(std::size_t conn, const protocol::upgrade_msg& upd) {
    if (answer_again(conn, upd.cmd_id)) return;
    if (cfg_.upgrade_command.empty()) {
      finish(conn, upd.cmd_id, refused_rc, "refused: no upgrade_command configured");
      return;
    }
    log::info("commands: upgrade ", upd.cmd_id, upd.version.empty() ? "" : " to ", upd.version);
    std::vector<std::string> env;
    if (!upd.version.empty()) env.push_back("HB_UPGRADE_VERSION=" + upd.version);
    run(conn, upd.cmd_id, cfg_.upgrade_command, cfg_.upgrade_timeout, std::move(env));
  }

 private:
  struct done {
    int rc;
    std::string output;
    std::chrono::steady_clock::time_point at;
  };
  asio::any_io_executor ex_;
  const client_config& cfg_;
  reply_fn reply_;
  std::set<std::string> running_;
  std::map<std::string, done> done_;

  bool answer_again(std::size_t conn, const std::string& id) {
    if (running_.count(id)) return true;  // the RES follows when it ends
    auto it = done_.find(id);
    if (it == done_.end()) return false;
    reply_(conn, id, it->second.rc, it->second.output);
    return true;
  }

  void finish(std::size_t conn, const std::string& id, int rc, std::string output) {
    auto now = std::chrono::steady_clock::now();
    std::erase_if(done_, [&](const auto& kv) { return now - kv.second.at > std::chrono::hours(1); });
    output = readers::valid_utf8_prefix(output, protocol::max_output_bytes);
    reply_(conn, id, rc, output);
    done_[id] = done{rc, std::move(output), now};
  }

  void run(std::size_t conn, std::string id, std::vector<std::string> argv, double timeout,
           std::vector<std::string> env) {
    running_.insert(id);
    net::spawn(ex_, run_task(conn, std::move(id), std::move(argv), timeout, std::move(env)), "commands");
  }

  net::awaitable<void> run_task(std::size_t conn, std::string id, std::vector<std::string> argv,
                                double timeout, std::vector<std::string> env) {
    net::process_options o;
    o.timeout = net::timeout_from_seconds(timeout);
    o.max_output = 16 * 1024;
    o.extra_env = std::move(env);
    auto r = co_await net::run_process(argv, o);
    running_.erase(id);
    int rc = r.timed_out ? -9 : r.rc;
    log::info("commands: ", id, " finished with ", rc);
    finish(conn, id, rc, result_output(r));
  }
};

}  // namespace heartbeat::client
