// Display templates of threshold rules ("{check_name}: exit {value} (expected <
// {threshold_value})"): compiled once at config load, rendered only when a
// transition is emitted (io thread). Python format syntax subset: {name},
// {name:.Nf}, {{ and }} for literal braces.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/alert/types.hpp"
#include "heartbeat/core/enum_names.hpp"
#include "heartbeat/core/result.hpp"

namespace heartbeat::alert {

enum class template_var : std::uint8_t {
  literal,          // plain text
  value,            // {value}
  threshold_value,  // {threshold_value}
  op_symbol,        // {op_symbol}
  check_name,       // {check_name}
  metric_name,      // {metric_name}
  output,           // {output}: <check_name>_output of the same sample
  status,           // {status}: <check_name>_status of the same sample
  field,            // any other plugin field, by its path in the data ("total_mb", "data.x" -> "x")
};

inline constexpr enum_names<template_var::field> template_var_names{
    {"literal", "value", "threshold_value", "op_symbol", "check_name", "metric_name", "output", "status",
     "field"},
    "literal"};

inline const char* to_string(template_var v) noexcept { return template_var_names[v]; }

struct template_segment {
  template_var var = template_var::literal;
  std::string text;    // literal text, or the field path for template_var::field
  int precision = -1;  // {value:.2f} -> 2; -1: default formatting
};

// What a template is rendered with. `field` looks a plugin field up by its path
// in the sample's data and returns false when absent.
struct render_context {
  double value = NAN;
  double threshold = NAN;
  op oper = op::gt;
  std::string_view check_name;
  std::string_view metric_name;
  std::string_view output;
  std::string_view status;
};

class display_template {
 public:
  display_template() = default;

  // Compiles `text`. `allow_fields`: plugin fields may be referenced (false for
  // RTT rules, which have no plugin data). Errors: code "bad_template" (syntax)
  // or "unknown_variable" (with a "did you mean" hint for near misses).
  static result<display_template> compile(std::string_view text, bool allow_fields) {
    display_template t;
    t.source_ = std::string(text);
    std::string lit;
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c == '}') {
        if (i + 1 < text.size() && text[i + 1] == '}') {
          lit.push_back('}');
          ++i;
          continue;
        }
        return make_error("bad_template", "unmatched '}' at offset " + std::to_string(i));
      }
      if (c != '{') {
        lit.push_back(c);
        continue;
      }
      if (i + 1 < text.size() && text[i + 1] == '{') {
        lit.push_back('{');
        ++i;
        continue;
      }
      std::size_t close = text.find('}', i + 1);
      if (close == std::string_view::npos)
        return make_error("bad_template", "unclosed '{' at offset " + std::to_string(i));
      std::string_view inner = text.substr(i + 1, close - i - 1);
      std::string_view name = inner, spec;
      if (auto colon = inner.find(':'); colon != std::string_view::npos) {
        name = inner.substr(0, colon);
        spec = inner.substr(colon + 1);
      }
      template_segment seg;
      if (!spec.empty()) {
        // Only fixed-point precision is supported: ".Nf".
        if (spec.size() < 3 || spec[0] != '.' || spec.back() != 'f')
          return make_error("bad_template", "unsupported format spec '" + std::string(spec) + "' (use .Nf)");
        int p = 0;
        for (char d : spec.substr(1, spec.size() - 2)) {
          if (d < '0' || d > '9')
            return make_error("bad_template", "unsupported format spec '" + std::string(spec) + "'");
          p = p * 10 + (d - '0');
        }
        if (p > 17) p = 17;
        seg.precision = p;
      }
      auto v = lookup(name);
      if (!v) {
        if (name.empty()) return make_error("unknown_variable", "empty variable name {}");
        if (!allow_fields)
          return make_error("unknown_variable", "unknown template variable {" + std::string(name) +
                                                    "} (RTT rules have no plugin fields)");
        if (!valid_field(name))
          return make_error("unknown_variable", "unknown template variable {" + std::string(name) + "}");
        std::string_view field = name;
        if (field.substr(0, 5) == "data.") {
          field.remove_prefix(5);  // explicit plugin field: no near-miss check
        } else if (auto hint = near_miss(name)) {
          return make_error("unknown_variable",
                            "unknown template variable {" + std::string(name) + "} (did you mean {" + hint +
                                "}? plugin fields may be written {data." + std::string(name) + "})");
        }
        seg.var = template_var::field;
        seg.text = std::string(field);
      } else {
        seg.var = *v;
      }
      if (!lit.empty()) t.segments_.push_back({template_var::literal, std::move(lit), -1}), lit.clear();
      t.segments_.push_back(std::move(seg));
      i = close;
    }
    if (!lit.empty()) t.segments_.push_back({template_var::literal, std::move(lit), -1});
    return t;
  }

  bool empty() const noexcept { return source_.empty(); }
  const std::string& source() const noexcept { return source_; }
  const std::vector<template_segment>& segments() const noexcept { return segments_; }

  // Renders with the fixed variables from `ctx` and plugin fields from `field`
  // (callable bool(std::string_view path, std::string& out)); a missing field renders as "?".
  template <class FieldLookup>
  std::string render(const render_context& ctx, FieldLookup&& field) const {
    std::string out;
    for (const auto& s : segments_) {
      switch (s.var) {
        case template_var::literal: out += s.text; break;
        case template_var::value: out += number(ctx.value, s.precision); break;
        case template_var::threshold_value: out += number(ctx.threshold, s.precision); break;
        case template_var::op_symbol: out += to_string(ctx.oper); break;
        case template_var::check_name: out += ctx.check_name; break;
        case template_var::metric_name: out += ctx.metric_name; break;
        case template_var::output: out += ctx.output; break;
        case template_var::status: out += ctx.status; break;
        case template_var::field: {
          std::string v;
          if (field(std::string_view(s.text), v))
            out += v;
          else
            out += "?";
          break;
        }
      }
    }
    return out;
  }

 private:
  std::string source_;
  std::vector<template_segment> segments_;

  static std::optional<template_var> lookup(std::string_view n) noexcept {
    if (n == "value") return template_var::value;
    if (n == "threshold_value") return template_var::threshold_value;
    if (n == "op_symbol") return template_var::op_symbol;
    if (n == "check_name") return template_var::check_name;
    if (n == "metric_name") return template_var::metric_name;
    if (n == "output") return template_var::output;
    if (n == "status") return template_var::status;
    return std::nullopt;
  }
  static bool valid_field(std::string_view n) noexcept {
    for (char c : n) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '.' || c == '/' || c == '-';
      if (!ok) return false;
    }
    return !n.empty();
  }
  // A misspelt fixed variable ({valeu}, {threshold}, {check}) is an error, not a plugin field.
  static const char* near_miss(std::string_view n) noexcept {
    static const char* const names[] = {"value",       "threshold_value", "op_symbol", "check_name",
                                        "metric_name", "output",          "status"};
    for (const char* cand : names) {
      std::string_view c(cand);
      if (distance(n, c) <= 2) return cand;
      // prefixes and underscore variants: {threshold}, {check}, {op}, {metric}
      if (n.size() >= 2 && c.substr(0, n.size()) == n && c[n.size()] == '_') return cand;
    }
    return nullptr;
  }
  static std::size_t distance(std::string_view a, std::string_view b) noexcept {
    if (a.size() > 32 || b.size() > 32) return 99;
    std::size_t prev[33], cur[33];
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = cur[j];
    }
    return prev[b.size()];
  }
  static std::string number(double v, int precision) {
    if (precision < 0) return format_value(v);
    if (std::isnan(v)) return "n/a";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", precision, v);
    return buf;
  }
};

}  // namespace heartbeat::alert
