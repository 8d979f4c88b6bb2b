// hbc's configuration (~/.hbc.yaml): typed struct and its loader with key-path
// diagnostics. Plugin sections stay raw json::value here; each plugin reads its
// own options when the client builds it. Start-up only, main thread.
#pragma once

#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/protocol/messages.hpp"
#include "heartbeat/readers/argv.hpp"

namespace heartbeat::client {

struct command_spec {
  std::vector<std::string> argv;
  double timeout = 60;      // seconds
  bool allow_args = false;  // append the CMD's args to argv (off: a CMD with args is refused)
};

struct serve_config {
  bool enabled = false;
  std::string listen = "127.0.0.1";
  unsigned port = 50006;
  std::string api_key;                    // empty: no key needed
  std::vector<std::string> cors_origins;  // Origins allowed to read the data; "*" for any
};

struct client_config {
  std::string name;  // host name sent in every message (default: short hostname)
  unsigned hb_port = 50003;
  double interval = 30;
  std::string key;                              // HMAC key (16+ bytes); empty: unauthenticated
  std::string owner;                            // client-declared owner user, sent in HTB
  json::value plugins = json::value::object();  // plugins.<instance> raw sections
  bool default_plugins = true;                  // run the on-by-default plugins even when not listed
  std::map<std::string, command_spec> commands;
  std::vector<std::string> upgrade_command;
  double upgrade_timeout = 600;
  std::size_t max_datagram = 65507;  // largest datagram the client sends (UDP over IPv4)
  serve_config serve;
};

inline std::string default_host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  std::string n(buf);
  if (auto dot = n.find('.'); dot != std::string::npos && dot > 0) n.resize(dot);
  return n;
}

namespace detail {

// An argv from a list of strings or a string split with readers::split_command.
inline bool read_argv(const json::value& v, const std::string& path, config::diagnostics& d,
                      std::vector<std::string>& out) {
  if (v.is_string()) {
    auto a = readers::split_command(v.as_string());
    if (!a) {
      d.error(path, a.err().message);
      return false;
    }
    out = std::move(*a);
    return true;
  }
  if (v.is_array() && !v.as_array().empty()) {
    out.clear();
    for (const auto& e : v.as_array()) {
      if (!e.is_string()) {
        d.error(path, "must be a command string or a list of strings");
        return false;
      }
      out.push_back(e.as_string());
    }
    return true;
  }
  d.error(path, "must be a command string or a non-empty list of strings");
  return false;
}

}  // namespace detail

// Reads every key; unknown keys warn, wrong ones are errors naming the key path.
inline client_config load_client_config(const json::value& root, config::diagnostics& d) {
  client_config c;
  c.name = default_host_name();
  config::object_reader r(root, "", d);
  r.get("name", c.name);
  if (!protocol::valid_host_name(c.name))
    d.error("name", "must be 1..253 letters, digits, '.', '-' or '_' (got \"" + c.name + "\")");
  r.get("hb_port", c.hb_port, 1, 65535);
  r.get_duration("interval", c.interval);
  if (c.interval < 1) d.error("interval", "must be at least 1 second");
  r.get("key", c.key);
  if (!c.key.empty() && c.key.size() < 16) d.error("key", "must be at least 16 bytes");
  r.get("owner", c.owner);
  r.get("default_plugins", c.default_plugins);
  r.get("max_datagram", c.max_datagram, 512, 65507);
  if (const json::value* p = r.raw("plugins")) {
    if (!p->is_object())
      d.error("plugins", "must be a mapping of plugin name to settings");
    else
      c.plugins = *p;
  }
  if (const json::value* cmds = r.raw("commands")) {
    auto add = [&](const std::string& name, const json::value& v, const std::string& path) {
      command_spec s;
      if (v.is_object()) {
        config::object_reader cr(v, path, d);
        const json::value* cmd = cr.raw("command");
        if (!cmd) return d.error(path + ".command", "is required");
        if (!detail::read_argv(*cmd, path + ".command", d, s.argv)) return;
        cr.get_duration("timeout", s.timeout);
        cr.get("allow_args", s.allow_args);
        cr.known({"name"});
        cr.finish();
      } else if (!detail::read_argv(v, path, d, s.argv)) {
        return;
      }
      c.commands[name] = std::move(s);
    };
    if (cmds->is_object()) {
      for (const auto& [k, v] : cmds->as_object()) add(k, v, "commands." + k);
    } else if (cmds->is_array()) {  // the nagios-like list form: [{name, command}]
      std::size_t i = 0;
      for (const auto& e : cmds->as_array()) {
        std::string path = "commands." + std::to_string(i++);
        const json::value* n = e.find("name");
        if (!n || !n->is_string() || n->as_string().empty())
          d.error(path + ".name", "is required");
        else
          add(n->as_string(), e, path);
      }
    } else {
      d.error("commands", "must be a mapping of name to command");
    }
  }
  if (const json::value* u = r.raw("upgrade_command"))
    detail::read_argv(*u, "upgrade_command", d, c.upgrade_command);
  r.get_duration("upgrade_timeout", c.upgrade_timeout);
  if (r.has("serve")) {
    auto s = r.child("serve");
    c.serve.enabled = true;
    s.get("enabled", c.serve.enabled);
    s.get("listen", c.serve.listen);
    s.get("port", c.serve.port, 0, 65535);
    s.get("api_key", c.serve.api_key);
    s.get("cors_origins", c.serve.cors_origins);
    s.finish();
  }
  r.known({"server"});
  if (r.has("server"))
    d.error("server", "is not a config key: the server is the positional argument (hbc [options] SERVER)");
  r.finish();
  return c;
}

// A server's CMD checked against the allow-list (hbc and hbc_mini): the spec and the
// argv to run (the spec's argv, then the arguments), or the refusal that becomes the
// command's output, with code "not_allowed" (unknown command) or "no_args".
struct allowed_command {
  const command_spec* spec;
  std::vector<std::string> argv;
};
inline result<allowed_command> allow_command(const client_config& cfg, const protocol::command_msg& cmd) {
  auto it = cfg.commands.find(cmd.command);
  if (it == cfg.commands.end())
    return make_error("not_allowed",
                      "refused: \"" + cmd.command + "\" is not in this client's commands allow-list");
  const command_spec& spec = it->second;
  if (!cmd.args.empty() && !spec.allow_args)
    return make_error("no_args", "refused: \"" + cmd.command + "\" takes no arguments (allow_args is off)");
  std::vector<std::string> argv = spec.argv;
  argv.insert(argv.end(), cmd.args.begin(), cmd.args.end());
  return allowed_command{&spec, std::move(argv)};
}

}  // namespace heartbeat::client
