// Specification of core/json.hpp: parsing, limits, UTF-8 and writing.
#include "heartbeat/core/json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace json = heartbeat::json;

TEST(Json, ParsesAnObjectInOrder) {
  auto v = json::parse(R"({"b":1,"a":[true,false,null],"s":"x\u00e9\n"})");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->dump(), "{\"b\":1,\"a\":[true,false,null],\"s\":\"x\xc3\xa9\\n\"}");
}

TEST(Json, NumbersRoundTrip) {
  auto v = json::parse("[0,-1,1.5,1e3,-2.25e-3,12345678901]");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->dump(), "[0,-1,1.5,1000,-0.00225,12345678901]");
}

// Numbers with up to 6 decimals take an integer fast path; every double must
// still read back exactly, and timestamps keep their familiar shape.
TEST(Json, WrittenNumbersReadBackExactly) {
  auto text = [](double v) {
    std::string s;
    json::write_number(s, v);
    return s;
  };
  EXPECT_EQ(text(1763840000.25), "1763840000.25");
  EXPECT_EQ(text(1763840000.260113), "1763840000.260113");
  EXPECT_EQ(text(-0.5), "-0.5");
  EXPECT_EQ(text(0.000001), "0.000001");
  EXPECT_EQ(text(45.2), "45.2");
  std::uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 200000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double v;
    switch (i % 4) {
      case 0: v = static_cast<double>(x % 4000000000000000ull) / 1e6; break;       // timestamps, 6 decimals
      case 1: v = static_cast<double>(x % 100000) / 100.0 - 500; break;            // measurements
      case 2: v = static_cast<double>(x >> 11) / 9007199254740992.0 * 1e4; break;  // full precision
      default:
        std::memcpy(&v, &x, sizeof v);
        if (!std::isfinite(v)) continue;  // any double
    }
    std::string s = text(v);
    auto back = json::parse(s);
    ASSERT_TRUE(back) << s;
    ASSERT_EQ(back->as_number(), v) << s;
  }
}

TEST(Json, RejectsMalformedText) {
  for (const char* bad :
       {"", "{", "{\"a\"}", "[1,]", "01", "1.", "-", "\"abc", "{\"a\":1}x", "tru", "[\"\t\"]"}) {
    auto v = json::parse(bad);
    ASSERT_FALSE(v) << bad;
    EXPECT_EQ(v.err().code, "bad_json") << bad;
  }
}

TEST(Json, RejectsInvalidUtf8) {
  for (std::string bad : {std::string("\"\xff\""), std::string("\"\xc0\xaf\""),
                          std::string("\"\xed\xa0\x80\""), std::string("\"\\ud800\"")}) {
    auto v = json::parse(bad);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.err().code, "bad_utf8");
  }
}

TEST(Json, EnforcesDepth) {
  std::string deep(65, '[');
  deep += std::string(65, ']');
  auto v = json::parse(deep);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.err().code, "too_deep");
  std::string ok(64, '[');
  ok += std::string(64, ']');
  EXPECT_TRUE(json::parse(ok));
}

TEST(Json, BuildsAndEscapes) {
  auto v = json::value::object();
  v["name"] = "a\"b\\c\x01";
  v["n"] = 3;
  v["f"] = 0.5;
  EXPECT_EQ(v.dump(), R"({"name":"a\"b\\c\u0001","n":3,"f":0.5})");
  EXPECT_EQ(v.number_or("n", 0), 3);
  EXPECT_EQ(v.string_or("missing", "d"), "d");
}
