// Typed reading of configuration trees (json::value, from YAML or JSON) with
// errors that name the key path, e.g. `hosts.web01.key: must be at least 16 bytes`.
// Loaders walk the tree once; every problem is collected, unknown keys warn.
// Dependency-free (hbc_mini reads ~/.hbc.json with it).
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/json.hpp"

namespace heartbeat::config {

struct diagnostic {
  std::string path;  // dotted key path, e.g. "hosts.web01.watch"
  std::string message;
  bool is_error = true;  // false: a warning (unknown key)
  std::string text() const { return (path.empty() ? std::string("(top level)") : path) + ": " + message; }
};

struct diagnostics {
  std::vector<diagnostic> items;
  void error(std::string path, std::string msg) { items.push_back({std::move(path), std::move(msg), true}); }
  void warn(std::string path, std::string msg) { items.push_back({std::move(path), std::move(msg), false}); }
  bool has_errors() const {
    for (const auto& d : items)
      if (d.is_error) return true;
    return false;
  }
};

inline std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string p(parent);
  p.push_back('.');
  p.append(key);
  return p;
}

// Parses durations: a number of seconds, or a string like "90", "30s", "5m", "2h", "7d", "1w".
inline std::optional<double> parse_duration(const json::value& v) {
  if (v.is_number()) return v.as_number() >= 0 ? std::optional<double>(v.as_number()) : std::nullopt;
  if (!v.is_string() || v.as_string().empty()) return std::nullopt;
  const std::string& s = v.as_string();
  std::size_t i = 0;
  double num = 0;
  bool digits = false;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    num = num * 10 + (s[i] - '0');
    ++i;
    digits = true;
  }
  if (!digits) return std::nullopt;
  if (i == s.size()) return num;
  if (i + 1 != s.size()) return std::nullopt;
  switch (s[i]) {
    case 's': return num;
    case 'm': return num * 60;
    case 'h': return num * 3600;
    case 'd': return num * 86400;
    case 'w': return num * 7 * 86400;
    default: return std::nullopt;
  }
}

// A cursor on one object of the tree. `get_*` read a key, record a diagnostic
// on a wrong type and leave the default; `finish()` warns about keys never read.
class object_reader {
 public:
  object_reader(const json::value& v, std::string path, diagnostics& d)
      : v_(v), path_(std::move(path)), d_(d) {
    if (!v.is_object() && !v.is_null())
      d_.error(path_, std::string("must be a mapping, not ") + json::to_string(v.type()));
  }

  const std::string& path() const { return path_; }
  const json::value& node() const { return v_; }
  diagnostics& diag() { return d_; }
  std::string key_path(std::string_view key) const { return join_path(path_, key); }

  const json::value* raw(std::string_view key) {
    mark(key);
    const json::value* v = v_.find(key);
    return v && !v->is_null() ? v : nullptr;
  }
  bool has(std::string_view key) const {
    const json::value* v = v_.find(key);
    return v && !v->is_null();
  }

  void get(std::string_view key, std::string& out) {
    if (const json::value* v = raw(key)) {
      if (v->is_string())
        out = v->as_string();
      else if (v->is_number())
        out = json::value(v->as_number()).dump();
      else
        type_error(key, "a string", *v);
    }
  }
  void get(std::string_view key, bool& out) {
    if (const json::value* v = raw(key)) {
      if (v->is_bool())
        out = v->as_bool();
      else
        type_error(key, "true or false", *v);
    }
  }
  void get(std::string_view key, double& out, double min = -HUGE_VAL, double max = HUGE_VAL) {
    if (const json::value* v = raw(key)) {
      if (!v->is_number()) return type_error(key, "a number", *v);
      if (v->as_number() < min || v->as_number() > max)
        return d_.error(key_path(key),
                        "must be between " + json::value(min).dump() + " and " + json::value(max).dump());
      out = v->as_number();
    }
  }
  template <class Int>
  requires std::is_integral_v<Int> &&
      (!std::is_same_v<Int, bool>)void get(std::string_view key, Int& out, double min = 0,
                                           double max = 4294967295.0) {
    if (const json::value* v = raw(key)) {
      if (!v->is_number() || v->as_number() != std::floor(v->as_number()))
        return type_error(key, "a whole number", *v);
      if (v->as_number() < min || v->as_number() > max)
        return d_.error(key_path(key),
                        "must be between " + json::value(min).dump() + " and " + json::value(max).dump());
      out = static_cast<Int>(v->as_number());
    }
  }
  void get_duration(std::string_view key, double& seconds) {
    if (const json::value* v = raw(key)) {
      if (auto d = parse_duration(*v))
        seconds = *d;
      else
        d_.error(key_path(key), "must be a duration in seconds or like 30s, 5m, 2h, 7d");
    }
  }
  // A list of strings; a single string is accepted as a list of one.
  void get(std::string_view key, std::vector<std::string>& out) {
    if (const json::value* v = raw(key)) {
      out.clear();
      if (v->is_string()) {
        out.push_back(v->as_string());
        return;
      }
      if (!v->is_array()) return type_error(key, "a list of strings", *v);
      std::size_t i = 0;
      for (const auto& e : v->as_array()) {
        if (e.is_string())
          out.push_back(e.as_string());
        else
          d_.error(key_path(key) + "." + std::to_string(i), "must be a string");
        ++i;
      }
    }
  }
  // One of a fixed set of words.
  void get_enum(std::string_view key, std::string& out, std::initializer_list<std::string_view> allowed) {
    if (const json::value* v = raw(key)) {
      if (!v->is_string()) return type_error(key, "a string", *v);
      for (auto a : allowed)
        if (v->as_string() == a) {
          out = v->as_string();
          return;
        }
      std::string msg = "must be one of";
      for (auto a : allowed) msg += std::string(" ") + std::string(a);
      msg += " (got \"" + v->as_string() + "\")";
      d_.error(key_path(key), msg);
    }
  }
  // A nested mapping; returns a reader on it (on an empty object when absent).
  object_reader child(std::string_view key) {
    const json::value* v = raw(key);
    return object_reader(v ? *v : null_value(), key_path(key), d_);
  }
  // Marks keys as known without reading them (handled elsewhere).
  void known(std::initializer_list<std::string_view> keys) {
    for (auto k : keys) mark(k);
  }
  // Warns about every key that was never read.
  void finish() {
    if (!v_.is_object()) return;
    for (const auto& [k, _] : v_.as_object()) {
      bool seen = false;
      for (const auto& s : seen_)
        if (s == k) seen = true;
      if (!seen) d_.warn(key_path(k), "unknown key (ignored)");
    }
  }

 private:
  const json::value& v_;
  std::string path_;
  diagnostics& d_;
  std::vector<std::string> seen_;

  static const json::value& null_value() {
    static const json::value n;
    return n;
  }
  void mark(std::string_view key) {
    for (const auto& s : seen_)
      if (s == key) return;
    seen_.emplace_back(key);
  }
  void type_error(std::string_view key, const char* want, const json::value& got) {
    d_.error(key_path(key), std::string("must be ") + want + ", not " + json::to_string(got.type()));
  }
};

}  // namespace heartbeat::config
