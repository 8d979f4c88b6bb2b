// The one logger of hbd, hbc and hbc_mini: a line per call to stderr (with a UTC
// timestamp) or to syslog(3) once a daemon switched to it. Dependency-free so the
// mini client shares it; each call is one write(2), so threads may log freely.
// Convention: a line begins with its component, e.g. log::warn("cpu_monitor: ", ...).
// Lines carry text from the network (host and user names, messages, plugin
// output): every control character is escaped (\n, \r, \t, \xNN) so that no
// sender can start a line of its own or rewrite the terminal.
#pragma once

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace heartbeat::log {

enum class level : int { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

inline const char* to_string(level l) noexcept {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    case level::off: return "off";
  }
  return "unknown";
}

namespace detail {
inline std::atomic<int>& threshold() {
  static std::atomic<int> t{static_cast<int>(level::info)};
  return t;
}
inline std::atomic<bool>& to_syslog() {
  static std::atomic<bool> s{false};
  return s;
}

inline void append(std::string& out, std::string_view s) { out.append(s); }
inline void append(std::string& out, const char* s) { out.append(s ? s : "(null)"); }
inline void append(std::string& out, const std::string& s) { out.append(s); }
inline void append(std::string& out, char c) { out.push_back(c); }
inline void append(std::string& out, bool b) { out.append(b ? "true" : "false"); }
template <std::integral T>
requires(!std::same_as<T, bool> && !std::same_as<T, char>) void append(std::string& out, T v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}
template <std::floating_point T>
void append(std::string& out, T v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, static_cast<double>(v), std::chars_format::general, 6);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// Escapes control characters (C0, DEL) in place; text without any is left untouched.
inline void escape_controls(std::string& line) {
  std::size_t i = 0;
  while (i < line.size() && static_cast<unsigned char>(line[i]) >= 0x20 && line[i] != 0x7f) ++i;
  if (i == line.size()) return;
  static const char hex[] = "0123456789abcdef";
  std::string out(line, 0, i);
  out.reserve(line.size() + 16);
  for (; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c >= 0x20 && c != 0x7f) {
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  line.swap(out);
}

inline void emit(level l, std::string& line) {
  escape_controls(line);
  if (to_syslog().load(std::memory_order_relaxed)) {
    int prio = l == level::error  ? LOG_ERR
               : l == level::warn ? LOG_WARNING
               : l == level::info ? LOG_INFO
                                  : LOG_DEBUG;
    ::syslog(prio, "%s", line.c_str());
    return;
  }
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ ", &tm);
  std::string out;
  out.reserve(n + line.size() + 10);
  out.append(ts, n);
  out.append(to_string(l));
  out.append(": ");
  out.append(line);
  out.push_back('\n');
  ssize_t rc = ::write(2, out.data(), out.size());
  (void)rc;
}
}  // namespace detail

inline void set_level(level l) { detail::threshold().store(static_cast<int>(l)); }
inline level get_level() { return static_cast<level>(detail::threshold().load()); }
inline bool enabled(level l) {
  return static_cast<int>(l) >= detail::threshold().load(std::memory_order_relaxed);
}

// Sends every later line to syslog(3) with LOG_DAEMON (used after daemonizing).
inline void use_syslog(const char* ident) {
  ::openlog(ident, LOG_PID, LOG_DAEMON);
  detail::to_syslog().store(true);
}

template <class... Args>
void write(level l, const Args&... args) {
  if (!enabled(l)) return;
  std::string line;
  (detail::append(line, args), ...);
  detail::emit(l, line);
}

namespace detail {
// What log::debug, info, warn and error are: write() at one level.
template <level L>
struct writer {
  template <class... Args>
  void operator()(const Args&... a) const {
    log::write(L, a...);
  }
};
}  // namespace detail

inline constexpr detail::writer<level::debug> debug{};
inline constexpr detail::writer<level::info> info{};
inline constexpr detail::writer<level::warn> warn{};
inline constexpr detail::writer<level::error> error{};

}  // namespace heartbeat::log

namespace heartbeat::log {

// A warning that may repeat at a high rate (a full queue under overload) logged at most once per
// `period` seconds, saying how often it happened since the last line. One owner thread; the
// caller passes a monotonic time.
class limited {
 public:
  explicit limited(double period = 60) : period_(period) {}
  template <class... Args>
  void warn(double mono_now, const Args&... args) {
    ++count_;
    if (mono_now < next_) return;
    next_ = mono_now + period_;
    log::write(level::warn, args...,
               count_ > 1 ? " (" + std::to_string(count_) + " times since the last report)" : std::string());
    count_ = 0;
  }

 private:
  double period_;
  double next_ = -1e300;
  std::uint64_t count_ = 0;
};

}  // namespace heartbeat::log
