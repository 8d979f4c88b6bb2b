// json::parse_sax's tokenizer checked against references that do not share its code:
// known statuses and events for hand-written inputs, every number bit for bit equal
// to std::from_chars on its raw text (the fast decimal path must round exactly), and
// the DOM round trip (parse, dump, parse again gives the same text).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "../json_reference.hpp"
#include "heartbeat/core/json.hpp"

namespace {

using namespace heartbeat;

using hbtest::reference_number;

struct recorder {
  std::string log;
  int number_mismatches = 0;
  bool note(char c, std::string_view s = {}) {
    log.push_back(c);
    log.append(s);
    log.push_back('|');
    return true;
  }
  bool on_null() { return note('n'); }
  bool on_bool(bool b) { return note(b ? 't' : 'f'); }
  bool on_number(double v, std::string_view raw) {
    double want = reference_number(raw);
    if (std::memcmp(&v, &want, sizeof v) != 0) ++number_mismatches;
    return note('r', raw);
  }
  bool on_string(std::string_view s) { return note('s', s); }
  bool on_key(std::string_view s) { return note('k', s); }
  bool begin_object(std::size_t o) { return note('{', std::to_string(o)); }
  bool end_object(std::size_t o) { return note('}', std::to_string(o)); }
  bool begin_array(std::size_t o) { return note('[', std::to_string(o)); }
  bool end_array(std::size_t o) { return note(']', std::to_string(o)); }
};

json::parse_status check(std::string_view text) {
  recorder a, b;
  std::string scratch = "left over";
  auto st = json::parse_sax(text, a);
  EXPECT_EQ(a.number_mismatches, 0) << text;
  // The overload with a caller's scratch buffer (the protocol decoder) is the same parser.
  EXPECT_EQ(json::parse_sax(text, b, {}, scratch), st) << text;
  EXPECT_EQ(a.log, b.log) << text;
  if (st == json::parse_status::ok) {
    auto dom = json::parse(text);
    EXPECT_TRUE(dom.ok()) << text;
    if (dom.ok()) {
      auto again = json::parse(dom.value().dump());
      EXPECT_TRUE(again.ok()) << text;
      if (again.ok()) {
        EXPECT_EQ(again.value().dump(), dom.value().dump()) << text;
      }
    }
  }
  return st;
}

TEST(JsonSax, KnownEvents) {
  recorder r;
  ASSERT_EQ(json::parse_sax(
                R"( { "s" : "a\"b\\c\/d\n\u00e9\ud83d\ude00" , "t" : [ true , false , null, -1.5 ] } )", r),
            json::parse_status::ok);
  EXPECT_EQ(r.log, "{1|ks|sa\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80|kt|[50|t|f|n|r-1.5|]79|}81|");
}

TEST(JsonSax, KnownStatuses) {
  using st = json::parse_status;
  const std::pair<const char*, st> cases[] = {
      {R"({"ID":"HTB","name":"web01","ver":1,"seq":42,"interval":30,"ts":1763840000.25,"rtt":1.8})", st::ok},
      {R"({"a":[1,-0,0.1,1e5,1E-5,-12.5e+3,123456789012345678901234567890,9007199254740993,0.30000000000000004]})",
       st::ok},
      {R"({"n":4.35,"m":2.675,"k":1.7976931348623157e308,"z":1e-400,"h":1e400,"q":0.1234567890123456789012})",
       st::ok},
      {"{\"long string without escapes, more than eight bytes long\":\"caf\xc3\xa9 \xe2\x82\xac "
       "\xf0\x9f\x98\x80 ok\"}",
       st::ok},
      {"[[[[[[[[]]]]]]]]", st::ok},
      {"{\"bad\":\"\xff\"}", st::bad_utf8},
      {"{\"bad\":\"abcdefgh\x01\"}", st::bad_json},
      {"{\"cut\":\"abcdefghijkl", st::bad_json},
      {"{\"x\":01}", st::bad_json},
      {"{\"x\":1.}", st::bad_json},
      {"{\"x\":-}", st::bad_json},
      {"{\"x\":1e}", st::bad_json},
      {"[1,2,]", st::bad_json},
      {"{\"a\" 1}", st::bad_json},
      {"tru", st::bad_json},
      {"nul", st::bad_json},
      {"\"\\ud800\"", st::bad_utf8},
      {"\"\\udc00\"", st::bad_utf8},
      {"", st::bad_json},
      {"  ", st::bad_json},
      {"{}x", st::bad_json},
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(check(text), want) << text;
}

TEST(JsonSax, RandomMutationsKeepNumbersExactAndRoundTrip) {
  std::mt19937_64 rng(99);
  const std::string base =
      "{\"ID\":\"PLG\",\"name\":\"h\",\"data\":{\"a\\u00e9\":[1.5,-2,3e2,\"x\\ny\",0.30000000000000004],"
      "\"b\":{\"c\":true,\"d\":null},\"caf\xc3\xa9\":\"long value string here\"}}";
  const char alphabet[] = "{}[]\",:\\-+.0123456789eEtrufalsn \x80\xc3\xa9\xff\x01u";
  for (int i = 0; i < 50000; ++i) {
    std::string s = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      std::size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[pos] = alphabet[rng() % (sizeof alphabet - 1)]; break;
        case 1: s.erase(pos, 1); break;
        default: s.insert(pos, 1, alphabet[rng() % (sizeof alphabet - 1)]);
      }
    }
    check(s);
    if (HasFailure()) return;
  }
}

}  // namespace
