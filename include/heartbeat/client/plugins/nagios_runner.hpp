// nagios_runner: runs Nagios plugins (argv, no shell) concurrently, each with a
// timeout, and reports per check <name>_status_code, <name>_status,
// <name>_output (stdout, else stderr) and its perfdata fields; a plugin killed
// by a signal is UNKNOWN; there is no aggregate field. Options: commands (list
// of {name, command, timeout}), timeout (30 s). Absolute paths are checked at
// start-up (warnings only). hbc's io thread.
#pragma once

#include <unistd.h>

#include "heartbeat/client/config.hpp"
#include "heartbeat/client/detail/join.hpp"
#include "heartbeat/client/plugin.hpp"
#include "heartbeat/readers/nagios.hpp"

namespace heartbeat::client {

class nagios_runner_plugin : public monitor_plugin_base<"nagios_runner"> {
 public:
  struct check {
    std::string name;
    std::vector<std::string> argv;
    double timeout = 30;
  };

  explicit nagios_runner_plugin(plugin_context& c) : name_(c.name) {
    double timeout = 30;
    c.options.get_duration("timeout", timeout);
    const json::value* cmds = c.options.raw("commands");
    std::string base = c.options.key_path("commands");
    if (!cmds) {
      c.options.diag().error(base, "is required: a list of {name, command}");
      return;
    }
    if (!cmds->is_array()) {
      c.options.diag().error(base, "must be a list of {name, command}");
      return;
    }
    std::size_t i = 0;
    for (const auto& e : cmds->as_array()) {
      std::string path = base + "." + std::to_string(i++);
      config::object_reader r(e, path, c.options.diag());
      check ch;
      ch.timeout = timeout;
      r.get("name", ch.name);
      if (ch.name.empty() || readers::sanitize_key(ch.name) != ch.name) {
        c.options.diag().error(r.key_path("name"), "is required: letters, digits, '_', '-' or '.'");
        continue;
      }
      const json::value* cmd = r.raw("command");
      if (!cmd) {
        c.options.diag().error(r.key_path("command"), "is required");
        continue;
      }
      if (!detail::read_argv(*cmd, r.key_path("command"), c.options.diag(), ch.argv)) continue;
      r.get_duration("timeout", ch.timeout);
      r.finish();
      checks_.push_back(std::move(ch));
    }
  }

  net::awaitable<result<void>> initialize() {
    for (const auto& c : checks_) {
      const std::string& exe = c.argv[0];
      if (exe.empty() || exe[0] != '/') continue;  // looked up in PATH when run
      if (::access(exe.c_str(), F_OK) != 0)
        log::warn(name_, ": ", c.name, ": ", exe, " does not exist");
      else if (::access(exe.c_str(), X_OK) != 0)
        log::warn(name_, ": ", c.name, ": ", exe, " is not executable");
    }
    co_return result<void>{};
  }

  net::awaitable<result<json::value>> collect() {
    std::vector<detail::process_job> jobs;
    for (const auto& c : checks_) {
      detail::process_job& j = jobs.emplace_back();
      j.argv = c.argv;
      j.options.timeout = net::timeout_from_seconds(c.timeout);
      j.options.max_output = 16 * 1024;
    }
    auto results = co_await detail::run_all(std::move(jobs));
    json::value d = json::value::object();
    for (std::size_t i = 0; i < checks_.size(); ++i) {
      const auto& r = results[i];
      std::string err = r.err;
      if (r.timed_out)
        err = "UNKNOWN - plugin timed out after " + json::value(checks_[i].timeout).dump() + " s";
      int rc = r.timed_out ? 3 : r.rc;
      readers::add_nagios_fields(d, checks_[i].name, rc, r.timed_out ? std::string_view{} : r.out, err);
      if (r.rc < 0 && !r.timed_out) log::warn(name_, ": ", checks_[i].name, " killed by signal ", -r.rc);
    }
    co_return d;
  }

  const std::vector<check>& checks() const { return checks_; }

 private:
  std::string name_;
  std::vector<check> checks_;
};

}  // namespace heartbeat::client
