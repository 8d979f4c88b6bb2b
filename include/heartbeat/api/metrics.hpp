// Prometheus text exposition format (version 0.0.4) writer for GET /metrics: families with HELP and
// TYPE written once, label values escaped, metric names sanitised. Pure string building; the HTTP
// handler uses it on the io thread.
#pragma once

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace heartbeat::api {

// Label value escaping of the text format: backslash, double quote and line feed.
inline void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out.push_back(c);
    }
  }
}

// HELP text escaping: backslash and line feed.
inline void append_help(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
}

// A metric name from arbitrary text: [a-zA-Z_:][a-zA-Z0-9_:]*, other bytes become '_'.
inline std::string sanitize_metric_name(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(out.begin(), '_');
  return out;
}

// A label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved).
inline std::string sanitize_label_name(std::string_view s) {
  std::string out = sanitize_metric_name(s);
  for (auto& c : out)
    if (c == ':') c = '_';
  while (out.size() >= 2 && out[0] == '_' && out[1] == '_') out.erase(0, 1);
  return out;
}

inline void append_sample_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

using labels = std::vector<std::pair<std::string, std::string>>;

// Collects samples per family so that each family's samples are contiguous (the format requires
// it) no matter in which order the caller produces them.
class metrics_writer {
 public:
  // Declares a family; `type` is "gauge", "counter" or "untyped". Re-declaring is a no-op.
  void family(const std::string& name, std::string_view type, std::string_view help) {
    auto [it, fresh] = families_.try_emplace(name);
    if (!fresh) return;
    order_.push_back(name);
    auto& f = it->second;
    f.head += "# HELP ";
    f.head += name;
    f.head.push_back(' ');
    append_help(f.head, help);
    f.head += "\n# TYPE ";
    f.head += name;
    f.head.push_back(' ');
    f.head += type;
    f.head.push_back('\n');
  }

  // Adds a sample to a declared family (an undeclared one becomes untyped).
  void sample(const std::string& name, const labels& ls, double value) {
    if (!families_.count(name)) family(name, "untyped", name);
    auto& body = families_[name].body;
    body += name;
    if (!ls.empty()) {
      body.push_back('{');
      bool first = true;
      for (const auto& [k, v] : ls) {
        if (!first) body.push_back(',');
        first = false;
        body += k;
        body += "=\"";
        append_label_value(body, v);
        body.push_back('"');
      }
      body.push_back('}');
    }
    body.push_back(' ');
    append_sample_value(body, value);
    body.push_back('\n');
  }

  std::string str() const {
    std::string out;
    for (const auto& n : order_) {
      const auto& f = families_.at(n);
      out += f.head;
      out += f.body;
    }
    return out;
  }

 private:
  struct fam {
    std::string head, body;
  };
  std::map<std::string, fam> families_;
  std::vector<std::string> order_;
};

}  // namespace heartbeat::api
