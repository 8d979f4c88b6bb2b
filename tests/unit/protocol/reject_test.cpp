// Every reason the decoder drops a datagram, each triggered the way a broken or
// hostile sender would, plus the hard limits (zlib bomb, depth, sizes).
#include <gtest/gtest.h>

#include <random>

#include "heartbeat/protocol/codec.hpp"
#include "test_util.hpp"

namespace {

using namespace heartbeat::protocol;
using hbtest::bytes;
using hbtest::envelope;
using hbtest::no_keys;

constexpr double now = 1763840000;
const std::string key = "0123456789abcdef-secret";

struct RejectTest : ::testing::Test {
  decoder<system_policy> dec;
  message m;
  hbtest::key_table keys;
  RejectTest() { keys.keys["web01"] = key; }
  reject decode(std::string_view s, double t = now) { return dec.decode(bytes(s), t, keys, m); }
  std::string htb(std::string_view name = "web02", double ts = now) {
    return R"({"ID":"HTB","name":")" + std::string(name) + R"(","ver":1,"seq":1,"interval":30,"ts":)" +
           std::to_string(ts) + "}";
  }
};

TEST_F(RejectTest, UnknownFirstByte) {
  EXPECT_EQ(decode(""), reject::unknown_first_byte);
  EXPECT_EQ(decode(" {}"), reject::unknown_first_byte);
  EXPECT_EQ(decode("[1]"), reject::unknown_first_byte);
  EXPECT_EQ(decode("GET / HTTP/1.0"), reject::unknown_first_byte);
  EXPECT_EQ(decode(envelope("web01", key, "")), reject::unknown_first_byte);
}

TEST_F(RejectTest, InflateErrors) {
  std::string z = hbtest::zlib_compress(htb());
  EXPECT_EQ(decode(z), reject::none);
  EXPECT_EQ(decode(z.substr(0, z.size() / 2)), reject::inflate_error);  // truncated
  EXPECT_EQ(decode(z.substr(0, z.size() - 1)), reject::inflate_error);  // adler32 cut
  EXPECT_EQ(decode(z + "x"), reject::inflate_error);                    // trailing bytes
  std::string bad = z;
  bad[z.size() / 2] = static_cast<char>(bad[z.size() / 2] ^ 0x55);
  EXPECT_EQ(decode(bad), reject::inflate_error);
  EXPECT_EQ(decode("\x78"), reject::inflate_error);
  EXPECT_EQ(decode("\x78\x9c"), reject::inflate_error);
}

TEST_F(RejectTest, ZlibBombStopsAtTheCap) {
  // 64 MiB of zeros compresses to ~64 KiB; the cap is 1 MiB.
  std::string zeros(64u << 20, '{');
  std::string bomb = hbtest::zlib_compress(zeros, 9);
  ASSERT_LT(bomb.size(), 70000u);
  EXPECT_EQ(decode(bomb), reject::too_large);
  // A body exactly at the cap still inflates; one byte more does not.
  decode_options o;
  o.max_message_bytes = 4096;
  dec.set_options(o);
  std::string body = R"({"ID":"ERR","error":")";
  body += std::string(o.max_message_bytes - body.size() - 2, 'e');
  body += "\"}";
  ASSERT_EQ(body.size(), 4096u);
  o.max_message_bytes = 1 << 20;
  dec.set_options(o);
  EXPECT_EQ(decode(hbtest::zlib_compress(body)), reject::too_long);  // error > 1024: but inflated fine
  o.max_message_bytes = 4096;
  dec.set_options(o);
  EXPECT_EQ(decode(hbtest::zlib_compress(body)), reject::too_long);
  EXPECT_EQ(decode(hbtest::zlib_compress(body + " ")), reject::too_large);
  EXPECT_EQ(decode(body + " "), reject::too_large);  // text body over the cap
}

TEST_F(RejectTest, TooLargeLeafCount) {
  std::string body = R"({"ID":"PLG","name":"web02","plugin":"p","data":{"a":[)";
  for (std::size_t i = 0; i <= max_leaves; ++i) body += i ? ",1" : "1";
  body += "]}}";
  EXPECT_EQ(decode(body), reject::too_large);
}

TEST_F(RejectTest, BadJson) {
  EXPECT_EQ(decode("{"), reject::bad_json);
  EXPECT_EQ(decode(R"({"ID":"HTB",})"), reject::bad_json);
  EXPECT_EQ(decode(R"({"ID":"HTB"} x)"), reject::bad_json);
  EXPECT_EQ(decode(R"({"ID":'HTB'})"), reject::bad_json);
  EXPECT_EQ(decode(R"({"n":01})"), reject::bad_json);
  EXPECT_EQ(decode(R"({"n":"a\qb"})"), reject::bad_json);
  std::string truncated = htb();
  for (std::size_t n = 1; n < truncated.size(); ++n)
    EXPECT_NE(decode(truncated.substr(0, n)), reject::none) << n;
}

TEST_F(RejectTest, BadUtf8) {
  EXPECT_EQ(decode("{\"ID\":\"MSG\",\"name\":\"a\",\"msg\":\"\xff\"}"), reject::bad_utf8);
  EXPECT_EQ(decode("{\"ID\":\"MSG\",\"name\":\"a\",\"msg\":\"\xc0\xaf\"}"), reject::bad_utf8);  // overlong
  EXPECT_EQ(decode("{\"ID\":\"MSG\",\"name\":\"a\",\"msg\":\"\xed\xa0\x80\"}"),
            reject::bad_utf8);                                                                  // surrogate
  EXPECT_EQ(decode("{\"ID\":\"MSG\",\"name\":\"a\",\"msg\":\"\xe2\x82\"}"), reject::bad_utf8);  // cut
  EXPECT_EQ(decode(R"({"ID":"MSG","name":"a","msg":"\ud800"})"), reject::bad_utf8);  // lone surrogate escape
  EXPECT_EQ(decode("{\"ID\":\"PLG\",\"name\":\"a\",\"plugin\":\"p\",\"data\":{\"k\xfe\":1}}"),
            reject::bad_utf8);
}

TEST_F(RejectTest, TooDeep) {
  auto nested = [](int depth) {
    std::string s = R"({"ID":"PLG","name":"a","plugin":"p","data":{"k":)";
    for (int i = 0; i < depth; ++i) s += "[";
    for (int i = 0; i < depth; ++i) s += "]";
    return s + "}}";
  };
  EXPECT_EQ(decode(nested(62)), reject::none);  // root + data + 62 arrays = 64 levels
  EXPECT_EQ(decode(nested(63)), reject::too_deep);
  EXPECT_EQ(decode(nested(100000)), reject::too_deep);
}

TEST_F(RejectTest, MissingField) {
  EXPECT_EQ(decode(R"({"name":"a"})"), reject::missing_field);
  EXPECT_EQ(decode(R"({"ID":"HTB","name":"a","ver":1,"seq":1})"), reject::missing_field);
  EXPECT_EQ(decode(R"({"ID":"HTB","ver":1,"seq":1,"interval":30})"), reject::missing_field);
  EXPECT_EQ(decode(R"({"ID":"HTB","name":null,"ver":1,"seq":1,"interval":30})"), reject::missing_field);
  EXPECT_EQ(decode(R"({"ID":"PLG","name":"a","plugin":"p"})"), reject::missing_field);
  EXPECT_EQ(decode(R"({"ID":"MSG","name":"a"})"), reject::missing_field);
  EXPECT_EQ(decode(R"({"ID":"RES","name":"a","cmd_id":"c"})"), reject::missing_field);
  EXPECT_EQ(decode(R"({"ID":"ACK","seq":1})"), reject::missing_field);
  EXPECT_EQ(decode(R"({"ID":"ERR"})"), reject::missing_field);
  // An authenticated message must carry ts.
  EXPECT_EQ(decode(envelope("web01", key, R"({"ID":"HTB","name":"web01","ver":1,"seq":1,"interval":30})")),
            reject::missing_field);
}

TEST_F(RejectTest, WrongType) {
  EXPECT_EQ(decode(R"({"ID":1})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"HTB","name":1,"ver":1,"seq":1,"interval":30})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"HTB","name":"a","ver":"1","seq":1,"interval":30})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"HTB","name":"a","ver":1,"seq":-1,"interval":30})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"HTB","name":"a","ver":1,"seq":1.5,"interval":30})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"HTB","name":"a","ver":1,"seq":1,"interval":0})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"HTB","name":"a","ver":1,"seq":1,"interval":30,"rtt":-1})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"HTB","name":"a","ver":1,"seq":1,"interval":30,"ts":"now"})"),
            reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"HTB","name":"a","ver":1,"seq":1,"interval":1e999})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"PLG","name":"a","plugin":"p","data":[1]})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"PLG","name":"a","plugin":"p","data":{},"kind":"other"})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"MSG","name":"a","msg":"x","event":"reboot"})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"MSG","name":"a","msg":{"x":1}})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"RES","name":"a","cmd_id":"c","rc":"0"})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"RES","name":"a","cmd_id":"c","rc":99999999999})"), reject::wrong_type);
  EXPECT_EQ(decode(R"({"ID":"ACK","seq":1,"server_ts":1,"request_update":2})"), reject::wrong_type);
  EXPECT_EQ(
      decode(envelope("web01", key, R"({"ID":"CMD","cmd_id":"c","command":"x","args":[1],"ts":1763840000})")),
      reject::wrong_type);
  EXPECT_EQ(
      decode(envelope("web01", key, R"({"ID":"CMD","cmd_id":"c","command":"x","args":"a","ts":1763840000})")),
      reject::wrong_type);
}

TEST_F(RejectTest, BadName) {
  EXPECT_EQ(decode(htb("")), reject::bad_name);
  EXPECT_EQ(decode(htb("web 01")), reject::bad_name);
  EXPECT_EQ(decode(htb("web/01")), reject::bad_name);
  EXPECT_EQ(decode(htb("w\\u00e9b")), reject::bad_name);
  EXPECT_EQ(decode(htb(std::string(253, 'a'))), reject::none);
  EXPECT_EQ(decode(htb(std::string(254, 'a'))), reject::bad_name);
  EXPECT_EQ(decode(R"({"ID":"PLG","name":"a","plugin":"","data":{}})"), reject::bad_name);
}

TEST_F(RejectTest, TooLong) {
  std::string body = R"({"ID":"MSG","name":"a","msg":")" + std::string(1024, 'x') + "\"}";
  EXPECT_EQ(decode(body), reject::none);
  // 1024 characters of two bytes each are still within the limit (it counts characters).
  std::string wide;
  for (int i = 0; i < 1024; ++i) wide += "\xc3\xa9";
  EXPECT_EQ(decode(R"({"ID":"MSG","name":"a","msg":")" + wide + "\"}"), reject::none);
  EXPECT_EQ(decode(R"({"ID":"MSG","name":"a","msg":")" + std::string(1025, 'x') + "\"}"), reject::too_long);
  EXPECT_EQ(
      decode(R"({"ID":"RES","name":"a","cmd_id":"c","rc":0,"output":")" + std::string(4097, 'x') + "\"}"),
      reject::too_long);
  EXPECT_EQ(decode(R"({"ID":"HTB","name":"a","ver":1,"seq":1,"interval":30,"agent":")" +
                   std::string(300, 'x') + "\"}"),
            reject::too_long);
  EXPECT_EQ(decode(R"({"ID":"PLG","name":"a","plugin":"p","data":{")" + std::string(600, 'k') + "\":1}}"),
            reject::too_long);
}

TEST_F(RejectTest, UnknownType) {
  EXPECT_EQ(decode(R"({"ID":"XYZ","name":"a"})"), reject::unknown_type);
  EXPECT_EQ(decode(R"({"ID":"htb","name":"a"})"), reject::unknown_type);
  EXPECT_EQ(decode(R"({"ID":"HEARTBEAT"})"), reject::unknown_type);
}

TEST_F(RejectTest, AuthFailed) {
  std::string good = envelope("web01", key, htb("web01"));
  EXPECT_EQ(decode(good), reject::none);
  std::string bad_mac = envelope("web01", key, htb("web01", now + 1));
  bad_mac[10] = static_cast<char>(bad_mac[10] ^ 1);
  EXPECT_EQ(decode(bad_mac), reject::auth_failed);
  std::string wrong_key = envelope("web01", "another-key-of-16-bytes", htb("web01", now + 2));
  EXPECT_EQ(decode(wrong_key), reject::auth_failed);
  std::string tampered = envelope("web01", key, htb("web01", now + 3));
  tampered.back() = ' ';
  EXPECT_EQ(decode(tampered), reject::auth_failed);
  EXPECT_EQ(decode("HBA1"), reject::auth_failed);
  EXPECT_EQ(decode(std::string("HBA1\0", 5)), reject::auth_failed);
  EXPECT_EQ(decode("HBA1\x05web01" + std::string(31, 'm')), reject::auth_failed);  // mac cut short
}

TEST_F(RejectTest, UnknownKey) {
  EXPECT_EQ(decode(envelope("web02", key, htb("web02"))), reject::unknown_key);
}

TEST_F(RejectTest, NameMismatch) {
  EXPECT_EQ(decode(envelope("web01", key, htb("web02"))), reject::name_mismatch);
}

TEST_F(RejectTest, StaleTs) {
  EXPECT_EQ(decode(envelope("web01", key, htb("web01", now - 121))), reject::stale_ts);
  EXPECT_EQ(decode(envelope("web01", key, htb("web01", now + 121))), reject::stale_ts);
  EXPECT_EQ(decode(envelope("web01", key, htb("web01", now - 119))), reject::none);
}

TEST_F(RejectTest, Replay) {
  std::string d = envelope("web01", key, htb("web01"));
  EXPECT_EQ(decode(d), reject::none);
  EXPECT_EQ(decode(d, now + 60), reject::replay);
  EXPECT_EQ(decode(d, now + 200), reject::stale_ts);  // later: stale, never accepted again
  // A rejected datagram is not remembered: after a stale rejection the same mac
  // is still accepted once when it becomes valid (clock stepped back).
  std::string e = envelope("web01", key, htb("web01", now + 500));
  EXPECT_EQ(decode(e), reject::stale_ts);
  EXPECT_EQ(decode(e, now + 500), reject::none);
  EXPECT_EQ(decode(e, now + 500), reject::replay);
}

TEST_F(RejectTest, AuthRequired) {
  // web01 has a key: an unauthenticated message claiming its name is dropped.
  EXPECT_EQ(decode(htb("web01")), reject::auth_required);
  EXPECT_EQ(decode(htb("web02")), reject::none);
  decode_options o;
  o.require_auth = true;
  dec.set_options(o);
  EXPECT_EQ(decode(htb("web02")), reject::auth_required);
  EXPECT_EQ(decode("garbage"), reject::auth_required);
  EXPECT_EQ(decode(envelope("web01", key, htb("web01", now + 5))), reject::none);
}

TEST_F(RejectTest, RandomBytesNeverCrashAndNeverAccept) {
  std::mt19937_64 rng(12345);
  std::string buf;
  for (int i = 0; i < 20000; ++i) {
    buf.resize(rng() % 200);
    for (auto& c : buf) c = static_cast<char>(rng());
    if (i % 3 == 0 && !buf.empty()) buf[0] = '{';
    if (i % 3 == 1 && !buf.empty()) buf[0] = '\x78';
    reject r = decode(buf);
    EXPECT_NE(r, reject::none);
  }
  // Mutations of a valid message never crash either.
  std::string valid = R"({"ID":"PLG","name":"web02","plugin":"p","data":{"a":[1,2,{"b":"c"}],"d":true}})";
  for (int i = 0; i < 20000; ++i) {
    buf = valid;
    for (int k = 0; k < 3; ++k) buf[rng() % buf.size()] = static_cast<char>(rng());
    (void)decode(buf);
  }
}

TEST(ReplayCache, MemoryStaysBounded) {
  replay_cache c(1024);
  std::uint8_t mac[32] = {};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    for (auto& b : mac) b = static_cast<std::uint8_t>(rng());
    // Every entry still live: the cache must evict rather than grow.
    EXPECT_FALSE(c.check_and_insert(mac, 1000 + i * 0.001, 0));
    ASSERT_LE(c.capacity(), 1024u);
  }
  EXPECT_TRUE(c.check_and_insert(mac, 2000, 0));  // the newest is still remembered
}

TEST(ReplayCache, ExpiredEntriesAreReused) {
  replay_cache c(64);
  std::uint8_t mac[32] = {1};
  EXPECT_FALSE(c.check_and_insert(mac, 10, 0));
  EXPECT_TRUE(c.check_and_insert(mac, 10, 5));
  EXPECT_FALSE(c.check_and_insert(mac, 20, 11));  // expired at 10: accepted again
}

}  // namespace
