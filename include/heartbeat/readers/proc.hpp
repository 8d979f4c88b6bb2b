// Small text helpers for the pure readers in readers/: reading a /proc or /sys
// file in one go, splitting lines and fields, parsing numbers, rounding. Only
// the C++ standard library and POSIX (hbc_mini shares it); any thread.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"

namespace heartbeat::readers {

// Reads a whole file (procfs files report size 0, so read until EOF), at most
// max_bytes. `root` is prepended to `path` so tests can point at fixture trees.
inline result<std::string> read_file(std::string_view root, std::string_view path,
                                     std::size_t max_bytes = 4u << 20) {
  std::string full(root);
  full.append(path);
  int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("io", full + ": " + std::strerror(errno));
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return make_error("io", full + ": " + std::strerror(e));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) break;
  }
  ::close(fd);
  return text;
}

// Calls f(line) for each line of text (without the newline).
template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    f(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

inline bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Splits on runs of blanks (spaces and tabs); views into `line`.
inline std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// Splits on exactly one separator character (empty fields kept).
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    std::size_t p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

inline std::uint64_t to_u64(std::string_view s, std::uint64_t dflt = 0) noexcept {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p != s.data() ? v : dflt;
}

inline bool parse_double(std::string_view s, double& out) noexcept {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

inline double to_double(std::string_view s, double dflt = 0) noexcept {
  double v;
  return parse_double(s, v) ? v : dflt;
}

// Rounds to `digits` decimals, so that sent values stay short (45.2, not 45.19999).
inline double round_to(double v, int digits = 1) noexcept {
  double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

// Replaces every character that is not a letter, digit, '_' , '-' or '.' with '_'
// (metric keys stay usable in threshold paths and Prometheus names).
inline std::string sanitize_key(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out;
}

// At most `max_bytes` of `s` as valid UTF-8: invalid bytes become '?', and a
// multi-byte character is never cut (so the receiver's strict JSON parser accepts it).
inline std::string valid_utf8_prefix(std::string_view s, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  auto* end = p + s.size();
  while (p < end) {
    std::size_t n = *p < 0x80 ? 1 : json::detail::utf8_sequence(p, end);
    if (n == 0) {
      if (out.size() + 1 > max_bytes) break;
      out.push_back('?');
      ++p;
      continue;
    }
    if (out.size() + n > max_bytes) break;
    out.append(reinterpret_cast<const char*>(p), n);
    p += n;
  }
  return out;
}

}  // namespace heartbeat::readers
