// Pure readers behind os_info: uname(2) and /etc/os-release. Standard library
// and POSIX only (hbc_mini shares it); pure functions, any thread.
#pragma once

#include <sys/utsname.h>

#include <map>
#include <string>
#include <string_view>

#include "heartbeat/core/json.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::readers {

// KEY=value lines; values may be "double" or 'single' quoted with \ escapes.
inline std::map<std::string, std::string> parse_os_release(std::string_view text) {
  std::map<std::string, std::string> out;
  for_each_line(text, [&](std::string_view raw) {
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') return;
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) return;
    std::string_view v = line.substr(eq + 1);
    std::string value;
    if (!v.empty() && (v.front() == '"' || v.front() == '\'')) {
      char q = v.front();
      for (std::size_t i = 1; i < v.size() && v[i] != q; ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        value.push_back(v[i]);
      }
    } else {
      value = std::string(v);
    }
    out.emplace(std::string(line.substr(0, eq)), std::move(value));
  });
  return out;
}

struct uname_info {
  std::string system, hostname, release, version, machine;
};

inline uname_info read_uname() {
  uname_info u;
  struct utsname n {};
  if (::uname(&n) == 0) u = {n.sysname, n.nodename, n.release, n.version, n.machine};
  return u;
}

// The os_info data object: system, hostname, kernel, kernel_version,
// architecture, and from os-release distribution (PRETTY_NAME),
// distribution_id, distribution_version (VERSION_ID), distribution_codename.
inline json::value os_info_json(const uname_info& u, const std::map<std::string, std::string>& os_release) {
  json::value d = json::value::object();
  d.set("system", u.system);
  d.set("hostname", u.hostname);
  d.set("kernel", u.release);
  d.set("kernel_version", u.version);
  d.set("architecture", u.machine);
  auto get = [&](const char* k) -> const std::string* {
    auto it = os_release.find(k);
    return it == os_release.end() ? nullptr : &it->second;
  };
  if (auto* v = get("PRETTY_NAME"))
    d.set("distribution", *v);
  else if (auto* n = get("NAME"))
    d.set("distribution", *n);
  if (auto* v = get("ID")) d.set("distribution_id", *v);
  if (auto* v = get("VERSION_ID")) d.set("distribution_version", *v);
  if (auto* v = get("VERSION_CODENAME")) d.set("distribution_codename", *v);
  return d;
}

// uname plus <root>/etc/os-release (falling back to /usr/lib/os-release).
inline json::value read_os_info(std::string_view root = {}) {
  std::map<std::string, std::string> rel;
  auto text = read_file(root, "/etc/os-release", 65536);
  if (!text) text = read_file(root, "/usr/lib/os-release", 65536);
  if (text) rel = parse_os_release(*text);
  return os_info_json(read_uname(), rel);
}

}  // namespace heartbeat::readers
