// The values of a plugin sample (server/series.hpp), which /metrics and remote write share: the
// numeric and boolean leaves by dotted path, nothing inside arrays, nothing deeper than 16 objects,
// duplicates kept, invalid text gives nothing; the same as walking the parsed document.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/server/series.hpp"

using namespace heartbeat;
using values_list = std::vector<std::pair<std::string, double>>;

namespace {

values_list values_of(std::string_view text) {
  server::series::plugin_values v;
  values_list out;
  if (!v.parse(text)) return out;
  for (std::size_t i = 0; i < v.size(); ++i) out.emplace_back(std::string(v.metric(i)), v.value(i));
  return out;
}

// The document walk /metrics did before: objects only, numbers and booleans, depth at most 16.
void walk(const json::value& v, std::string& path, values_list& out, int depth = 0) {
  if (depth > 16) return;
  if (v.is_number()) {
    if (std::isfinite(v.as_number())) out.emplace_back(path, v.as_number());
  } else if (v.is_bool()) {
    out.emplace_back(path, v.as_bool() ? 1 : 0);
  } else if (v.is_object()) {
    for (const auto& [k, x] : v.as_object()) {
      std::size_t n = path.size();
      if (!path.empty()) path.push_back('.');
      path += k;
      walk(x, path, out, depth + 1);
      path.resize(n);
    }
  }
}

values_list reference(std::string_view text) {
  values_list out;
  auto v = json::parse(text);
  if (!v) return out;
  std::string path;
  walk(*v, path, out);
  return out;
}

TEST(PluginValues, LeavesByDottedPath) {
  auto v = values_of(R"({"cpu":12.5,"load":{"1":0.5,"5":1},"ok":true,"off":false,"name":"x","n":null})");
  values_list want = {{"cpu", 12.5}, {"load.1", 0.5}, {"load.5", 1}, {"ok", 1}, {"off", 0}};
  EXPECT_EQ(v, want);
}

TEST(PluginValues, ArraysAreNotValues) {
  auto v = values_of(R"({"a":[1,2,{"b":3}],"c":{"d":[4],"e":5},"f":6})");
  values_list want = {{"c.e", 5}, {"f", 6}};
  EXPECT_EQ(v, want);
}

TEST(PluginValues, DuplicatesKeptInvalidGivesNothing) {
  auto v = values_of(R"({"a":1,"a":2,"x.y":3,"x":{"y":4}})");
  values_list want = {{"a", 1}, {"a", 2}, {"x.y", 3}, {"x.y", 4}};
  EXPECT_EQ(v, want);
  EXPECT_TRUE(values_of(R"({"a":1,"b":)").empty());
  EXPECT_TRUE(values_of("").empty());
}

TEST(PluginValues, SameAsTheDocumentWalk) {
  std::string deep = "1";
  for (int i = 0; i < 20; ++i)
    deep = "{\"k" + std::to_string(i) + "\":" + deep + ",\"v" + std::to_string(i) +
           "\":" + std::to_string(i) + "}";
  const char* cases[] = {
      R"({})",
      R"(5)",
      R"(true)",
      R"([1,2])",
      R"({"":1,"a":{"":2}})",
      R"({"big":1e400,"neg":-1e-300,"i":123456789012345678})",
      R"({"a":{"b":{"c":{"d":1}},"e":[{"f":2}]},"g":{"h":true}})",
      R"({"partitions":{"/":{"percent":40.5,"free":1024},"/var":{"percent":90}}})",
      R"({"u":"\u00e9","\u00e9":1,"esc\"aped":2})",
  };
  for (const char* c : cases) EXPECT_EQ(values_of(c), reference(c)) << c;
  EXPECT_EQ(values_of(deep), reference(deep));
  EXPECT_EQ(values_of(deep).size(), 16u);  // v4 .. v19: nested 16 objects deep or less
}

TEST(PluginValues, ReuseAllocatesNothingNew) {
  server::series::plugin_values v;
  ASSERT_TRUE(v.parse(R"({"a":1,"b":{"c":2}})"));
  ASSERT_EQ(v.size(), 2u);
  ASSERT_TRUE(v.parse(R"({"z":3})"));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v.metric(0), "z");
  EXPECT_EQ(v.value(0), 3);
}

TEST(Series, UpValueCountsLateAsUp) {
  using server::host_state;
  EXPECT_EQ(server::series::up_value(host_state::up), 1);
  EXPECT_EQ(server::series::up_value(host_state::late), 1);
  EXPECT_EQ(server::series::up_value(host_state::down), 0);
  EXPECT_EQ(server::series::up_value(host_state::stopped), 0);
  EXPECT_EQ(server::series::up_value(host_state::unknown), 0);
}

}  // namespace
