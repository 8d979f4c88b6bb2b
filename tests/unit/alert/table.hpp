// Time-stepped table tests for the alert engine: a rule set from YAML, a series
// of (time, value) samples, and the transitions expected after each step, written
// as "notify: <text> [<display>]" or "silent: ...". Each row evaluates its sample (if any)
// and then ticks the engine at the same time, as hbd's monitor does every second.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "heartbeat/alert/engine.hpp"
#include "heartbeat/config/yaml.hpp"

namespace hb_alert_test {

using namespace heartbeat;

inline json::value yaml(const std::string& text) {
  auto r = config::parse_yaml(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().message);
  return r.ok() ? *r : json::value::object();
}

inline alert::ruleset compile(const std::string& text) {
  config::diagnostics d;
  auto rs = alert::compile_rules(yaml(text), d);
  for (const auto& i : d.items) ADD_FAILURE() << "unexpected diagnostic: " << i.text();
  return rs;
}

// Diagnostics (errors and warnings) as "path: message" lines.
inline std::vector<std::string> diagnose(const std::string& text) {
  config::diagnostics d;
  (void)alert::compile_rules(yaml(text), d);
  std::vector<std::string> out;
  for (const auto& i : d.items) out.push_back(i.text());
  return out;
}

inline std::string describe(const alert::transition& t) {
  // What a notification shows: the alert text, then the rendered display template.
  return std::string(t.notify ? "notify: " : "silent: ") + t.text +
         (t.display.empty() ? "" : " " + t.display);
}

struct row {
  double t;
  std::optional<double> value;  // nullopt: only tick
  std::vector<std::string> expect;
};

inline protocol::leaf number_leaf(std::string path, double v) {
  protocol::leaf l;
  l.path = std::move(path);
  l.type = protocol::leaf::kind::number;
  l.number = v;
  return l;
}

inline protocol::leaf text_leaf(std::string path, std::string v) {
  protocol::leaf l;
  l.path = std::move(path);
  l.type = protocol::leaf::kind::string;
  l.text = std::move(v);
  return l;
}

// Runs rows for one plugin leaf ("plugin.leaf.path") or, with metric "rtt", the host's RTT.
inline void run_table(alert::engine& e, const std::string& host, const std::string& metric,
                      const std::vector<row>& rows, std::vector<alert::transition>* all = nullptr) {
  std::string plugin = metric.substr(0, metric.find('.'));
  std::string leaf = metric.find('.') == std::string::npos ? "" : metric.substr(metric.find('.') + 1);
  for (const auto& r : rows) {
    std::vector<alert::transition> out;
    if (r.value) {
      if (metric == "rtt") {
        e.evaluate_rtt(host, *r.value, r.t, out);
      } else {
        std::vector<protocol::leaf> leaves{number_leaf(leaf, *r.value)};
        e.evaluate_plugin(host, plugin, leaves, r.t, out);
      }
    }
    e.tick(r.t, out);
    std::vector<std::string> got;
    for (const auto& t : out) got.push_back(describe(t));
    EXPECT_EQ(got, r.expect) << "at t=" << r.t
                             << (r.value ? " value=" + std::to_string(*r.value) : " (tick)");
    if (all)
      for (auto& t : out) all->push_back(t);
  }
}

}  // namespace hb_alert_test
