// Pure parser behind nagios_runner: Nagios plugin output (status line, long
// output, performance data `'label'=value[UOM];[warn];[crit];[min];[max]`) and
// the exit code to status mapping, and the fields one check contributes to the
// plugin's data. Standard library only (hbc_mini shares it); pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/enum_names.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/readers/proc.hpp"

namespace heartbeat::readers {

enum class nagios_status : int { ok = 0, warning = 1, critical = 2, unknown = 3 };

inline constexpr enum_names<nagios_status::unknown> nagios_status_names{
    {"OK", "WARNING", "CRITICAL", "UNKNOWN"}, "UNKNOWN"};

inline const char* to_string(nagios_status s) noexcept { return nagios_status_names[s]; }

// Exit code to status: 0..3 as Nagios defines them; anything else (a negative
// code for a signal-killed plugin, 126/127 from exec failures, ...) is UNKNOWN.
inline nagios_status status_from_exit(int rc) noexcept {
  if (rc >= 0 && rc <= 3) return static_cast<nagios_status>(rc);
  return nagios_status::unknown;
}

struct perf_value {
  std::string label;
  double value = 0;
  std::string unit;     // "", "s", "%", "B", "KB", "MB", "TB", "c", ...
  std::string warning;  // range text as given ("5", "10:20", "@0:5"), empty when absent
  std::string critical;
  std::optional<double> min, max;
};

struct nagios_output {
  std::string status_text;  // first line, before '|'
  std::string long_output;  // further lines, before any '|'
  std::vector<perf_value> perf;
};

namespace detail {

// Parses one perfdata string ("a=1;2;3 'b c'=4ms;;;0;100") into `out`; items that
// do not parse are skipped (plugins emit plenty of almost-perfdata).
inline void parse_perfdata(std::string_view s, std::vector<perf_value>& out) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i >= s.size()) break;
    std::string label;
    if (s[i] == '\'') {
      ++i;
      while (i < s.size()) {
        if (s[i] == '\'') {
          if (i + 1 < s.size() && s[i + 1] == '\'') {
            label.push_back('\'');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        label.push_back(s[i++]);
      }
    } else {
      while (i < s.size() && s[i] != '=' && !is_space(s[i])) label.push_back(s[i++]);
    }
    if (i >= s.size() || s[i] != '=') {  // not perfdata: skip the word
      while (i < s.size() && !is_space(s[i])) ++i;
      continue;
    }
    ++i;
    std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    auto parts = split(s.substr(start, i - start), ';');
    std::string_view v = parts[0];
    std::size_t num_end = 0;
    while (num_end < v.size() &&
           ((v[num_end] >= '0' && v[num_end] <= '9') || v[num_end] == '.' || v[num_end] == '-' ||
            v[num_end] == '+' || v[num_end] == 'e' || v[num_end] == 'E'))
      ++num_end;
    // "e"/"E" may also start a unit; back off until the number parses.
    perf_value p;
    while (num_end > 0 && !parse_double(v.substr(0, num_end), p.value)) --num_end;
    if (num_end == 0 || label.empty()) continue;
    p.label = std::move(label);
    p.unit = std::string(v.substr(num_end));
    if (parts.size() > 1) p.warning = std::string(trim(parts[1]));
    if (parts.size() > 2) p.critical = std::string(trim(parts[2]));
    double d;
    if (parts.size() > 3 && parse_double(trim(parts[3]), d)) p.min = d;
    if (parts.size() > 4 && parse_double(trim(parts[4]), d)) p.max = d;
    out.push_back(std::move(p));
  }
}

}  // namespace detail

// Splits plugin output per the Nagios plugin API: line 1 is "status | perf",
// later lines are long output until a line with '|', after which everything is perfdata.
inline nagios_output parse_nagios_output(std::string_view text) {
  nagios_output o;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  std::size_t nl = text.find('\n');
  std::string_view first = text.substr(0, nl);
  std::string_view rest = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  std::size_t bar = first.find('|');
  o.status_text = std::string(trim(first.substr(0, bar)));
  if (bar != std::string_view::npos) detail::parse_perfdata(first.substr(bar + 1), o.perf);
  std::size_t bar2 = rest.find('|');
  o.long_output = std::string(trim(rest.substr(0, bar2)));
  if (bar2 != std::string_view::npos) detail::parse_perfdata(rest.substr(bar2 + 1), o.perf);
  return o;
}

// Writes one check's fields into `data`: <name>_status_code, <name>_status,
// <name>_output (the status line, or the first stderr line when stdout was
// empty), <name>_long_output (only when present) and, per perfdata label L
// (sanitised): <name>_L (value), <name>_L_unit, <name>_L_warning,
// <name>_L_critical, <name>_L_min, <name>_L_max (each only when given;
// warning/critical as numbers when they are plain numbers, else the range text).
// `rc` is the exit code, negative when a signal killed the plugin.
inline void add_nagios_fields(json::value& data, std::string_view name, int rc, std::string_view stdout_text,
                              std::string_view stderr_text, std::size_t max_output = 1024) {
  nagios_status st = status_from_exit(rc);
  std::string n(name);
  data.set(n + "_status_code", static_cast<int>(st));
  data.set(n + "_status", to_string(st));
  nagios_output o = parse_nagios_output(trim(stdout_text).empty() ? stderr_text : stdout_text);
  std::string out = valid_utf8_prefix(o.status_text, max_output);
  if (out.empty() && rc < 0) out = "killed by signal " + std::to_string(-rc);
  data.set(n + "_output", out);
  if (!o.long_output.empty()) data.set(n + "_long_output", valid_utf8_prefix(o.long_output, max_output));
  auto threshold = [](const std::string& t) {
    double v;
    return parse_double(t, v) ? json::value(v) : json::value(valid_utf8_prefix(t, 64));
  };
  for (const auto& p : o.perf) {
    std::string key = n + "_" + sanitize_key(p.label);
    data.set(key, p.value);
    if (!p.unit.empty()) data.set(key + "_unit", valid_utf8_prefix(p.unit, 16));
    if (!p.warning.empty()) data.set(key + "_warning", threshold(p.warning));
    if (!p.critical.empty()) data.set(key + "_critical", threshold(p.critical));
    if (p.min) data.set(key + "_min", *p.min);
    if (p.max) data.set(key + "_max", *p.max);
  }
}

}  // namespace heartbeat::readers
