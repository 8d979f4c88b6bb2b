// exec: any executable that prints one JSON object on stdout becomes a plugin
// (how users add their own without compiling). Options: command (string split
// with simple quoting, or argv list; required), timeout (30 s). A non-zero exit,
// a timeout or output that is not a JSON object makes the collect fail, which
// sends {"error": ...}. Configure one instance per script under any name with
// `type: exec`. hbc's io thread.
#pragma once

#include "heartbeat/client/config.hpp"
#include "heartbeat/client/plugin.hpp"

namespace heartbeat::client {

class exec_plugin : public monitor_plugin_base<"exec"> {
 public:
  explicit exec_plugin(plugin_context& c) : name_(c.name) {
    const json::value* cmd = c.options.raw("command");
    if (!cmd)
      c.options.diag().error(c.options.key_path("command"), "is required");
    else
      detail::read_argv(*cmd, c.options.key_path("command"), c.options.diag(), argv_);
    c.options.get_duration("timeout", timeout_);
  }
  net::awaitable<result<void>> initialize() {
    if (!argv_.empty() && argv_[0].starts_with('/') && ::access(argv_[0].c_str(), X_OK) != 0)
      co_return make_error("exec", argv_[0] + " is not an executable file");
    co_return result<void>{};
  }
  net::awaitable<result<json::value>> collect() {
    process_options o;
    o.timeout = net::timeout_from_seconds(timeout_);
    o.max_output = 256 * 1024;
    auto r = co_await run_process(argv_, o);
    if (r.timed_out)
      co_return make_error("timeout", "timed out after " + json::value(timeout_).dump() + " s");
    if (!r.spawned) co_return make_error("spawn", r.err);
    if (r.rc != 0)
      co_return make_error("exit",
                           "exited with " + std::to_string(r.rc) + ": " + r.err.substr(0, r.err.find('\n')));
    auto v = json::parse(readers::trim(r.out));
    if (!v || !v->is_object()) co_return make_error("output", "output is not a JSON object");
    co_return std::move(*v);
  }

 private:
  std::string name_;
  std::vector<std::string> argv_;
  double timeout_ = 30;
};

}  // namespace heartbeat::client
