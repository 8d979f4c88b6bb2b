// Small helpers shared by the journal, the store and the DNS worker: UTC time
// formatting, directory creation and the default state path. Any thread.
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/result.hpp"

namespace heartbeat::server::detail {

// Appends `ts` (Unix seconds) as "YYYY-MM-DDTHH:MM:SS" in UTC, the journal's
// `datetime` shape (no fraction and no zone suffix; docs/STORAGE.md "Line format").
// Each thread keeps the text of the last second it formatted: a journal writer
// formats thousands of lines per second, nearly all within the same second.
inline void append_iso_utc(std::string& out, double ts) {
  thread_local std::time_t cached_t = -1;
  thread_local char cached[32];
  thread_local std::size_t cached_n = 0;
  std::time_t t = static_cast<std::time_t>(std::floor(ts));
  if (t != cached_t) {
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    cached_n = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_t = t;
  }
  out.append(cached, cached_n);
}

// mkdir -p with mode 0750 for created directories.
inline result<void> make_dirs(const std::string& dir) {
  if (dir.empty()) return {};
  std::string cur;
  std::size_t pos = 0;
  while (pos <= dir.size()) {
    std::size_t next = dir.find('/', pos);
    if (next == std::string::npos) next = dir.size();
    cur = dir.substr(0, next);
    pos = next + 1;
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0750) != 0 && errno != EEXIST)
      return make_error("mkdir_failed", "cannot create directory " + cur + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error("mkdir_failed", dir + " is not a directory");
  return {};
}

inline std::string parent_dir(const std::string& path) {
  auto p = path.rfind('/');
  if (p == std::string::npos) return {};
  if (p == 0) return "/";
  return path.substr(0, p);
}

// $XDG_STATE_HOME/heartbeat/hbd.sqlite, falling back to ~/.local/state (XDG's default).
inline std::string default_state_db() {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  std::string base;
  if (xdg && *xdg == '/') {
    base = xdg;
  } else {
    const char* home = std::getenv("HOME");
    base = std::string(home && *home ? home : ".") + "/.local/state";
  }
  return base + "/heartbeat/hbd.sqlite";
}

}  // namespace heartbeat::server::detail
