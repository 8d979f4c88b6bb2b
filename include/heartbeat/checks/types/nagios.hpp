// The `nagios` check: runs a Nagios plugin (argv only, never a shell) through the shared
// subprocess runner on the io thread, with the check's timeout; exit 0 passes, 1 warns, 2, 3
// and anything else fail. The status line is the error; perfdata becomes metrics
// (readers/nagios.hpp parses it).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "heartbeat/checks/detail/read.hpp"
#include "heartbeat/checks/result.hpp"
#include "heartbeat/checks/runtime.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/net/asio.hpp"
#include "heartbeat/net/subprocess.hpp"
#include "heartbeat/readers/nagios.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::checks {

struct nagios_check {
  static constexpr std::string_view type_name = "nagios";

  std::vector<std::string> command;  // argv; argv[0] an absolute path or a name looked up in PATH

  static std::optional<nagios_check> read(config::object_reader& r) {
    nagios_check c;
    const std::size_t before = r.diag().items.size();
    if (const json::value* v = r.raw("command"); v && !v->is_array())
      r.diag().error(r.key_path("command"), "must be a list: the program and its arguments (no shell)");
    else
      r.get("command", c.command);
    if (c.command.empty() || c.command[0].empty())
      r.diag().error(r.key_path("command"), "is required: [/usr/lib/nagios/plugins/check_x, arg, ...]");
    if (detail::errors_since(r.diag(), before)) return std::nullopt;
    return c;
  }

  std::string description() const {
    std::string s = "Nagios plugin";
    for (std::size_t i = 0; i < command.size(); ++i) {
      std::string a = command[i];
      if (i == 0)
        if (auto slash = a.rfind('/'); slash != std::string::npos) a = a.substr(slash + 1);
      s += " " + a;
    }
    return s;
  }

  net::awaitable<check_result> run(run_context ctx) const {
    check_result res;
    net::process_options o;
    o.timeout = ctx.timeout;
    o.max_output = 16 * 1024;
    const double t0 = clock::mono_now();
    net::process_result p = co_await net::run_process(command, o);
    res.response_ms = (clock::mono_now() - t0) * 1000.0;
    if (!p.spawned) co_return check_result::failed("cannot run " + command[0] + ": " + p.err);
    if (p.timed_out)
      co_return check_result::failed(description() + ": killed after " +
                                     seconds_words(ctx.timeout.count() / 1000.0));
    const auto out = readers::parse_nagios_output(readers::trim(p.out).empty() ? p.err : p.out);
    res.metrics.set("status_code", static_cast<double>(p.rc));
    json::value perf = json::value::object();
    for (const auto& pv : out.perf) perf.set(readers::sanitize_key(pv.label), pv.value);
    if (perf.size() > 0) res.metrics.set("perfdata", std::move(perf));
    const auto status = readers::status_from_exit(p.rc);
    std::string line = readers::valid_utf8_prefix(out.status_text, 512);
    if (line.empty())
      line = p.rc < 0 ? "killed by signal " + std::to_string(-p.rc) : "exit code " + std::to_string(p.rc);
    switch (status) {
      case readers::nagios_status::ok: res.outcome = outcome::pass; break;
      case readers::nagios_status::warning: res.outcome = outcome::warn; break;
      default: res.outcome = outcome::fail; break;
    }
    if (res.outcome != outcome::pass) res.error = line;
    co_return res;
  }
};

}  // namespace heartbeat::checks
