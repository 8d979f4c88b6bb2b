// The ingest tokenizer (protocol/detail/fast_sax.hpp) must agree with json::parse_sax
// on every input: same status, same events, numbers equal bit for bit.
#include "heartbeat/protocol/detail/fast_sax.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace {

using namespace heartbeat;

struct recorder {
  std::string log;
  bool note(char c, std::string_view s = {}) {
    log.push_back(c);
    log.append(s);
    log.push_back('|');
    return true;
  }
  bool on_null() { return note('n'); }
  bool on_bool(bool b) { return note(b ? 't' : 'f'); }
  bool on_number(double v, std::string_view raw) {
    char bits[sizeof v];
    std::memcpy(bits, &v, sizeof v);
    return note('#', std::string_view(bits, sizeof bits)) && note('r', raw);
  }
  bool on_string(std::string_view s) { return note('s', s); }
  bool on_key(std::string_view s) { return note('k', s); }
  bool begin_object(std::size_t o) { return note('{', std::to_string(o)); }
  bool end_object(std::size_t o) { return note('}', std::to_string(o)); }
  bool begin_array(std::size_t o) { return note('[', std::to_string(o)); }
  bool end_array(std::size_t o) { return note(']', std::to_string(o)); }
};

void agree(std::string_view text) {
  recorder a, b;
  std::string scratch;
  auto sa = json::parse_sax(text, a);
  auto sb = protocol::detail::fast_parse(text, b, {}, scratch);
  EXPECT_EQ(sa, sb) << text;
  EXPECT_EQ(a.log, b.log) << text;
}

TEST(FastSax, AgreesWithTheCoreParser) {
  for (
      const char* t : {
          R"({"ID":"HTB","name":"web01","ver":1,"seq":42,"interval":30,"ts":1763840000.25,"rtt":1.8})",
          R"({"a":[1,-0,0.1,1e5,1E-5,-12.5e+3,123456789012345678901234567890,9007199254740993,0.30000000000000004]})",
          R"({"n":4.35,"m":2.675,"k":1.7976931348623157e308,"z":1e-400,"h":1e400,"q":0.1234567890123456789012})",
          R"( { "s" : "a\"b\\c\/d\n\u00e9\ud83d\ude00" , "t" : [ true , false , null ] } )",
          "{\"long string without escapes, more than eight bytes long\":\"caf\xc3\xa9 \xe2\x82\xac "
          "\xf0\x9f\x98\x80 ok\"}",
          "{\"bad\":\"\xff\"}",
          "{\"bad\":\"abcdefgh\x01\"}",
          "{\"cut\":\"abcdefghijkl",
          "{\"x\":01}",
          "{\"x\":1.}",
          "{\"x\":-}",
          "{\"x\":1e}",
          "[1,2,]",
          "{\"a\" 1}",
          "tru",
          "nul",
          "\"\\ud800\"",
          "\"\\udc00\"",
          "",
          "  ",
          "{}x",
          "[[[[[[[[]]]]]]]]",
      })
    agree(t);
}

TEST(FastSax, AgreesOnRandomMutations) {
  std::mt19937_64 rng(99);
  const std::string base =
      "{\"ID\":\"PLG\",\"name\":\"h\",\"data\":{\"a\\u00e9\":[1.5,-2,3e2,\"x\\ny\"],\"b\":{\"c\":true,\"d\":"
      "null},"
      "\"caf\xc3\xa9\":\"long value string here\"}}";
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
    agree(s);
    if (HasFailure()) return;
  }
}

}  // namespace
