// Prometheus text exposition writer (api/metrics.hpp): escaping, name sanitising, grouping.
#include "heartbeat/api/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace api = heartbeat::api;

TEST(Metrics, LabelValuesAreEscaped) {
  api::metrics_writer w;
  w.family("m", "gauge", "help");
  w.sample("m", {{"k", "a\"b\\c\nd"}}, 1);
  EXPECT_EQ(w.str(), "# HELP m help\n# TYPE m gauge\nm{k=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Metrics, HelpIsEscaped) {
  api::metrics_writer w;
  w.family("m", "counter", "line\\one\ntwo");
  EXPECT_EQ(w.str(), "# HELP m line\\\\one\\ntwo\n# TYPE m counter\n");
}

TEST(Metrics, SamplesOfAFamilyStayTogether) {
  api::metrics_writer w;
  w.family("a", "gauge", "A");
  w.family("b", "gauge", "B");
  w.sample("a", {{"x", "1"}}, 1);
  w.sample("b", {}, 2);
  w.sample("a", {{"x", "2"}}, 3);
  EXPECT_EQ(w.str(),
            "# HELP a A\n# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} 3\n# HELP b B\n# TYPE b gauge\nb 2\n");
}

TEST(Metrics, SpecialValues) {
  api::metrics_writer w;
  w.family("v", "gauge", "v");
  w.sample("v", {}, NAN);
  w.sample("v", {{"s", "p"}}, INFINITY);
  w.sample("v", {{"s", "n"}}, -INFINITY);
  w.sample("v", {{"s", "f"}}, 0.25);
  EXPECT_EQ(w.str(),
            "# HELP v v\n# TYPE v gauge\nv NaN\nv{s=\"p\"} +Inf\nv{s=\"n\"} -Inf\nv{s=\"f\"} 0.25\n");
}

TEST(Metrics, NamesAreSanitised) {
  EXPECT_EQ(api::sanitize_metric_name("disk.io-rate"), "disk_io_rate");
  EXPECT_EQ(api::sanitize_metric_name("9lives"), "_9lives");
  EXPECT_EQ(api::sanitize_metric_name("a:b"), "a:b");
  EXPECT_EQ(api::sanitize_label_name("a:b"), "a_b");
  EXPECT_EQ(api::sanitize_label_name("__reserved"), "_reserved");
  EXPECT_EQ(api::sanitize_metric_name(""), "_");
}

TEST(Metrics, UndeclaredFamilyIsUntyped) {
  api::metrics_writer w;
  w.sample("x", {}, 1);
  EXPECT_EQ(w.str(), "# HELP x x\n# TYPE x untyped\nx 1\n");
}
