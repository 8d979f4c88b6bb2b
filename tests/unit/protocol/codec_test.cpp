// Decoding and encoding of every message type: the examples of the protocol
// page decode to the values they show, and every encoder's output decodes back.
#include "heartbeat/protocol/codec.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using namespace heartbeat::protocol;
using hbtest::bytes;
using hbtest::no_keys;

struct CodecTest : ::testing::Test {
  decoder<system_policy> dec;
  message m;
  reject decode(std::string_view s, double now = 1763840000) { return dec.decode(bytes(s), now, no_keys, m); }
};

TEST_F(CodecTest, HeartbeatExampleDecodes) {
  ASSERT_EQ(
      decode(
          R"({"ID":"HTB","name":"web01","ver":1,"seq":42,"interval":30,"ts":1763840000.25,"rtt":1.8,"agent":"hbc/1.0.0"})"),
      reject::none);
  EXPECT_EQ(m.type, msg_type::htb);
  EXPECT_FALSE(m.authenticated);
  EXPECT_EQ(m.htb.name, "web01");
  EXPECT_EQ(m.htb.ver, 1);
  EXPECT_EQ(m.htb.seq, 42u);
  EXPECT_EQ(m.htb.interval, 30);
  EXPECT_EQ(m.htb.ts, 1763840000.25);
  EXPECT_EQ(m.htb.rtt, 1.8);
  EXPECT_EQ(m.htb.agent, "hbc/1.0.0");
  EXPECT_EQ(m.htb.owner, "");
  EXPECT_FALSE(m.htb.boot_time);
  EXPECT_EQ(m.sender(), "web01");
}

TEST_F(CodecTest, HeartbeatOptionalFieldsResetBetweenDecodes) {
  ASSERT_EQ(
      decode(
          R"({"ID":"HTB","name":"a","ver":1,"seq":1,"interval":30,"ts":5,"rtt":2,"agent":"x","owner":"bob","boot_time":7})"),
      reject::none);
  EXPECT_EQ(m.htb.owner, "bob");
  EXPECT_EQ(m.htb.boot_time, 7);
  ASSERT_EQ(decode(R"({"name":"b","seq":18446744073709551615,"ver":1,"interval":0.5,"ID":"HTB","rtt":null})"),
            reject::none);
  EXPECT_EQ(m.htb.name, "b");
  EXPECT_EQ(m.htb.seq, 18446744073709551615ull);
  EXPECT_EQ(m.htb.interval, 0.5);
  EXPECT_FALSE(m.htb.ts);
  EXPECT_FALSE(m.htb.rtt);
  EXPECT_FALSE(m.htb.boot_time);
  EXPECT_EQ(m.htb.agent, "");
  EXPECT_EQ(m.htb.owner, "");
}

TEST_F(CodecTest, PluginExampleKeepsDataVerbatimAndFlattensLeaves) {
  ASSERT_EQ(
      decode(
          R"({"ID":"PLG","name":"web01","plugin":"cpu_monitor","kind":"monitor","ts":1763840001.0,"data":{"cpu_percent":45.2,"load_1min":2.5}})"),
      reject::none);
  EXPECT_EQ(m.type, msg_type::plg);
  EXPECT_EQ(m.plg.plugin, "cpu_monitor");
  EXPECT_EQ(m.plg.kind, "monitor");
  EXPECT_EQ(m.plg.ts, 1763840001.0);
  EXPECT_FALSE(m.plg.interval);
  EXPECT_EQ(m.plg.data_json, R"({"cpu_percent":45.2,"load_1min":2.5})");
  ASSERT_EQ(m.plg.leaf_count, 2u);
  EXPECT_EQ(m.plg.leaves[0].path, "cpu_percent");
  EXPECT_EQ(m.plg.leaves[0].number, 45.2);
  EXPECT_EQ(m.plg.leaves[1].path, "load_1min");
  EXPECT_EQ(m.plg.leaves[1].type, leaf::kind::number);
}

TEST_F(CodecTest, PluginNestedDataPaths) {
  ASSERT_EQ(
      decode(
          R"({"ID":"PLG","name":"h","plugin":"disk_monitor","interval":300,"data":{"partitions":{"/":{"percent":91.5,"fs":"ext4"},"/boot":{"percent":10}},"list":[1,{"x":true},[null,"s"]],"empty":{},"esc\"k":"v\u00e9"}})"),
      reject::none);
  EXPECT_EQ(m.plg.interval, 300);
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < m.plg.leaf_count; ++i) paths.push_back(m.plg.leaves[i].path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"partitions./.percent", "partitions./.fs", "partitions./boot.percent",
                                      "list.0", "list.1.x", "list.2.0", "list.2.1", "esc\"k"}));
  EXPECT_EQ(m.plg.leaves[1].type, leaf::kind::string);
  EXPECT_EQ(m.plg.leaves[1].text, "ext4");
  EXPECT_EQ(m.plg.leaves[4].type, leaf::kind::boolean);
  EXPECT_EQ(m.plg.leaves[4].number, 1);
  EXPECT_EQ(m.plg.leaves[5].type, leaf::kind::null);
  EXPECT_EQ(m.plg.leaves[7].text, "v\xc3\xa9");
  // A second, smaller PLG reuses the leaves and reports only its own.
  ASSERT_EQ(decode(R"({"ID":"PLG","name":"h","plugin":"p","data":{}})"), reject::none);
  EXPECT_EQ(m.plg.leaf_count, 0u);
  EXPECT_EQ(m.plg.data_json, "{}");
  EXPECT_EQ(m.plg.kind, "");
}

TEST_F(CodecTest, MessageExample) {
  ASSERT_EQ(
      decode(
          R"({"ID":"MSG","name":"web01","msg":"maintenance starting","event":"message","ts":1763840002.0})"),
      reject::none);
  EXPECT_EQ(m.type, msg_type::msg);
  EXPECT_EQ(m.msg.msg, "maintenance starting");
  EXPECT_EQ(m.msg.event, msg_event::message);
  ASSERT_EQ(decode(R"({"ID":"MSG","name":"web01","msg":"bye","event":"shutdown"})"), reject::none);
  EXPECT_EQ(m.msg.event, msg_event::shutdown);
  ASSERT_EQ(decode(R"({"ID":"MSG","name":"web01","msg":"hi","event":"boot"})"), reject::none);
  EXPECT_EQ(m.msg.event, msg_event::boot);
  ASSERT_EQ(decode(R"({"ID":"MSG","name":"web01","msg":"plain"})"), reject::none);
  EXPECT_EQ(m.msg.event, msg_event::message);
}

TEST_F(CodecTest, ResultExample) {
  ASSERT_EQ(decode(R"({"ID":"RES","name":"web01","cmd_id":"c-17","rc":0,"output":"ok","ts":1763840031.0})"),
            reject::none);
  EXPECT_EQ(m.type, msg_type::res);
  EXPECT_EQ(m.res.cmd_id, "c-17");
  EXPECT_EQ(m.res.rc, 0);
  EXPECT_EQ(m.res.output, "ok");
  ASSERT_EQ(decode(R"({"ID":"RES","name":"web01","cmd_id":"c-18","rc":-1})"), reject::none);
  EXPECT_EQ(m.res.rc, -1);
  EXPECT_EQ(m.res.output, "");
}

TEST_F(CodecTest, AckExample) {
  ASSERT_EQ(
      decode(R"({"ID":"ACK","seq":42,"ts":1763840000.25,"server_ts":1763840000.26,"request_update":0})"),
      reject::none);
  EXPECT_EQ(m.type, msg_type::ack);
  EXPECT_EQ(m.ack.seq, 42u);
  EXPECT_EQ(m.ack.ts, 1763840000.25);
  EXPECT_EQ(m.ack.server_ts, 1763840000.26);
  EXPECT_EQ(m.ack.request_update, 0);
  ASSERT_EQ(decode(R"({"ID":"ACK","seq":1,"server_ts":5,"request_update":1})"), reject::none);
  EXPECT_EQ(m.ack.request_update, 1);
  EXPECT_FALSE(m.ack.ts);
  EXPECT_EQ(m.sender(), "");
}

TEST_F(CodecTest, ErrorDecodes) {
  ASSERT_EQ(decode(R"({"ID":"ERR","error":"unknown host"})"), reject::none);
  EXPECT_EQ(m.type, msg_type::err);
  EXPECT_EQ(m.err.error, "unknown host");
}

TEST_F(CodecTest, CommandAndUpgradeNeedAuthentication) {
  // The protocol page's CMD example, unauthenticated: never acted on.
  EXPECT_EQ(decode(R"({"ID":"CMD","cmd_id":"c-17","command":"restart_nginx","args":[]})"),
            reject::auth_required);
  EXPECT_EQ(decode(R"({"ID":"UPD","cmd_id":"u-1","version":"1.2.0"})"), reject::auth_required);
}

TEST_F(CodecTest, UnknownFieldsAreIgnored) {
  ASSERT_EQ(
      decode(
          R"({"ID":"HTB","future":{"a":[1,2,{"b":null}]},"name":"w","ver":2,"seq":1,"interval":30,"x":"y"})"),
      reject::none);
  EXPECT_EQ(m.htb.ver, 2);
  // A field of another message type with a wrong type does not matter either.
  ASSERT_EQ(decode(R"({"ID":"HTB","name":"w","ver":1,"seq":1,"interval":30,"msg":5,"data":[1]})"),
            reject::none);
}

// Every encoder's output decodes to the same values (server replies authenticated
// where the protocol requires it).
template <class Policy>
void round_trip_all() {
  hbtest::key_table keys;
  keys.keys["web01"] = "0123456789abcdef-secret";
  const std::string& key = keys.keys["web01"];
  decoder<Policy> dec;
  message m;
  std::string out;
  const double now = 1763840000;
  encode_options auth{"web01", key, compress_threshold, now};

  heartbeat_msg h{"web01", 1, 7, 30, now, 1.5, "hbc/1.0.0", "alice", 1763000000};
  encode<Policy>(h, out);
  ASSERT_EQ(dec.decode(hbtest::bytes(out), now, hbtest::no_keys, m), reject::none);
  EXPECT_EQ(m.htb.seq, 7u);
  EXPECT_EQ(m.htb.owner, "alice");
  EXPECT_EQ(m.htb.boot_time, 1763000000);
  encode<Policy>(h, out, auth);
  ASSERT_EQ(dec.decode(hbtest::bytes(out), now, keys, m), reject::none);
  EXPECT_TRUE(m.authenticated);
  EXPECT_EQ(m.key_id, "web01");

  plugin_msg p;
  p.name = "web01";
  p.plugin = "cpu_monitor";
  p.kind = "monitor";
  p.ts = now + 1;
  p.data_json = R"({"cpu_percent":45.2,"s":"a\"b"})";
  encode<Policy>(p, out, auth);
  ASSERT_EQ(dec.decode(hbtest::bytes(out), now, keys, m), reject::none);
  EXPECT_EQ(m.plg.data_json, p.data_json);
  EXPECT_EQ(m.plg.leaf_count, 2u);
  EXPECT_EQ(m.plg.leaves[1].text, "a\"b");

  message_msg mm{"web01", "line1\nline2 \xc3\xa9", msg_event::shutdown, std::nullopt};
  encode<Policy>(mm, out, auth);  // no ts in the struct: the encoder stamps one
  ASSERT_EQ(dec.decode(hbtest::bytes(out), now, keys, m), reject::none);
  EXPECT_EQ(m.msg.msg, mm.msg);
  EXPECT_EQ(m.msg.event, msg_event::shutdown);
  EXPECT_EQ(m.msg.ts, now);

  result_msg r{"web01", "c-1", 3, std::string(4096, 'o'), now};
  encode<Policy>(r, out, auth);
  ASSERT_EQ(dec.decode(hbtest::bytes(out), now, keys, m), reject::none);
  EXPECT_EQ(m.res.rc, 3);
  EXPECT_EQ(m.res.output.size(), 4096u);

  ack_msg a{42, now - 0.5, now, 1};
  encode<Policy>(a, out);
  EXPECT_EQ(out, R"({"ID":"ACK","seq":42,"ts":1763839999.5,"server_ts":1763840000,"request_update":1})");
  encode<Policy>(a, out, auth);
  ASSERT_EQ(dec.decode(hbtest::bytes(out), now, keys, m), reject::none);
  EXPECT_EQ(m.ack.seq, 42u);
  EXPECT_EQ(m.ack.request_update, 1);

  command_msg c{"c-17", "restart_nginx", {"-x", "a b"}};
  encode<Policy>(c, out, auth);
  ASSERT_EQ(dec.decode(hbtest::bytes(out), now, keys, m), reject::none);
  EXPECT_EQ(m.cmd.command, "restart_nginx");
  EXPECT_EQ(m.cmd.args, (std::vector<std::string>{"-x", "a b"}));

  upgrade_msg u{"u-1", "1.2.0"};
  encode<Policy>(u, out, auth);
  ASSERT_EQ(dec.decode(hbtest::bytes(out), now, keys, m), reject::none);
  EXPECT_EQ(m.upd.version, "1.2.0");

  error_msg e{"unknown host"};
  encode<Policy>(e, out);
  ASSERT_EQ(dec.decode(hbtest::bytes(out), now, hbtest::no_keys, m), reject::none);
  EXPECT_EQ(m.err.error, "unknown host");
}

TEST(CodecRoundTrip, SystemPolicy) { round_trip_all<system_policy>(); }
TEST(CodecRoundTrip, BuiltinPolicy) { round_trip_all<builtin_policy>(); }

TEST(CodecCompression, LargeBodiesAreCompressedAndDecoded) {
  plugin_msg p;
  p.name = "web01";
  p.plugin = "disk_monitor";
  p.data_json = "{";
  for (int i = 0; i < 60; ++i)
    p.data_json += std::string(i ? "," : "").append("\"/mnt/disk").append(std::to_string(i)) +
                   "\":" + std::to_string(i * 1.5);
  p.data_json += "}";
  std::string out;
  encode<system_policy>(p, out);
  EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x78);
  EXPECT_LT(out.size(), p.data_json.size());
  decoder<system_policy> dec;
  message m;
  ASSERT_EQ(dec.decode(hbtest::bytes(out), 0, hbtest::no_keys, m), reject::none);
  EXPECT_EQ(m.plg.data_json, p.data_json);
  EXPECT_EQ(m.plg.leaf_count, 60u);
  // compress_over = 0 never compresses; the builtin policy never compresses.
  encode_options never;
  never.compress_over = 0;
  encode<system_policy>(p, out, never);
  EXPECT_EQ(out[0], '{');
  encode<builtin_policy>(p, out);
  EXPECT_EQ(out[0], '{');
  // The builtin policy cannot inflate: a zlib body is an inflate error, not a crash.
  encode<system_policy>(p, out);
  decoder<builtin_policy> mini;
  EXPECT_EQ(mini.decode(hbtest::bytes(out), 0, hbtest::no_keys, m), reject::inflate_error);
}

TEST(CodecReject, NamesAreStableAndExhaustive) {
  EXPECT_STREQ(to_string(reject::none), "none");
  EXPECT_STREQ(to_string(reject::unknown_first_byte), "unknown_first_byte");
  EXPECT_STREQ(to_string(reject::auth_required), "auth_required");
  for (std::size_t i = 0; i < reject_count; ++i)
    EXPECT_STRNE(to_string(static_cast<reject>(i)), "unknown") << i;
}

}  // namespace

namespace {

// The HTB fast path (protocol/detail/htb_fast.hpp) and the generic parser agree on
// canonical heartbeats and on near misses (which the fast path hands over).
TEST(CodecFastPath, AgreesWithTheGenericParser) {
  using namespace heartbeat::protocol;
  decoder<system_policy> fast, generic;
  generic.set_fast_paths(false);
  message a, b;
  const char* cases[] = {
      R"({"ID":"HTB","name":"web01","ver":1,"seq":42,"interval":30,"ts":1763840000.25,"rtt":1.8,"agent":"hbc/1.0.0"})",
      R"({"ID":"HTB","name":"web01","ver":1,"seq":42,"interval":30})",
      R"({"ID":"HTB","name":"w","ver":1,"seq":18446744073709551615,"interval":0.5,"ts":1,"rtt":0,"agent":"a","owner":"bob","boot_time":1763000000})",
      R"({"ID":"HTB","name":"w","ver":1,"seq":1,"interval":30,"owner":"o"})",
      R"({"ID":"HTB","name":"w","ver":1.0,"seq":1,"interval":30})",
      R"({"ID":"HTB","name":"w","ver":1,"seq":1.5,"interval":30})",
      R"({"ID":"HTB","name":"w","ver":1,"seq":-1,"interval":30})",
      R"({"ID":"HTB","name":"w","ver":1,"seq":1,"interval":0})",
      R"({"ID":"HTB","name":"w","ver":1,"seq":1,"interval":30,"rtt":-0.5})",
      R"({"ID":"HTB","name":"w b","ver":1,"seq":1,"interval":30})",
      R"({"ID":"HTB","name":"w","ver":1,"seq":1,"interval":3e1})",
      R"({"ID":"HTB","name":"w","ver":1,"seq":1,"interval":30,"x":1})",
      R"({"ID":"HTB","name":"w\u0041","ver":1,"seq":1,"interval":30})",
      R"({"ID":"HTB","name":"w","ver":1,"seq":1,"interval":30} )",
      R"({"ID":"HTB","name":"w","ver":1,"seq":1,"interval":30)",
      R"({"ID":"HTB","name":"w","ver":99999999999,"seq":1,"interval":30})",
      R"({"ID":"HTB","name":"w","ver":1,"seq":1,"interval":30,"ts":1,"ts":2})",
  };
  for (const char* c : cases) {
    std::string_view s(c);
    std::span<const std::uint8_t> d(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    reject ra = fast.decode(d, 1763840000, hbtest::no_keys, a);
    reject rb = generic.decode(d, 1763840000, hbtest::no_keys, b);
    EXPECT_EQ(ra, rb) << c;
    if (ra == reject::none && rb == reject::none) {
      EXPECT_EQ(a.htb.name, b.htb.name) << c;
      EXPECT_EQ(a.htb.ver, b.htb.ver) << c;
      EXPECT_EQ(a.htb.seq, b.htb.seq) << c;
      EXPECT_EQ(a.htb.interval, b.htb.interval) << c;
      EXPECT_EQ(a.htb.ts, b.htb.ts) << c;
      EXPECT_EQ(a.htb.rtt, b.htb.rtt) << c;
      EXPECT_EQ(a.htb.agent, b.htb.agent) << c;
      EXPECT_EQ(a.htb.owner, b.htb.owner) << c;
      EXPECT_EQ(a.htb.boot_time, b.htb.boot_time) << c;
    }
  }
}

}  // namespace
