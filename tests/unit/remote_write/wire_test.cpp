// Remote write's wire format: the hand-written WriteRequest encoder decodes with protoc's code for
// the protocol's messages (remote_write.proto), byte for byte what libprotobuf writes; snappy's
// block format round-trips; Retry-After in both of its forms.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "heartbeat/remote_write/batcher.hpp"
#include "heartbeat/remote_write/http.hpp"
#include "heartbeat/remote_write/wire.hpp"
#include "remote_write.pb.h"

using namespace heartbeat::remote_write;

namespace {

TEST(RemoteWriteWire, EncoderOutputDecodesWithLibprotobuf) {
  write_request w;
  std::vector<label> a = {{"__name__", "heartbeat_plugin_value"},
                          {"host", "web01"},
                          {"metric", "partitions./.percent"},
                          {"plugin", "disk"}};
  w.add(a, 42.5, 1700000000123);
  std::string long_value(300, 'x');  // a length that needs a two-byte varint
  std::vector<label> b = {{"__name__", "heartbeat_host_up"}, {"host", long_value}};
  w.add(b, -0.0, 1);
  w.add(b, std::numeric_limits<double>::infinity(), 4102444800000);
  EXPECT_EQ(w.samples(), 3u);

  prometheus::WriteRequest req;
  ASSERT_TRUE(req.ParseFromString(std::string(w.bytes())));
  ASSERT_EQ(req.timeseries_size(), 3);
  const auto& s0 = req.timeseries(0);
  ASSERT_EQ(s0.labels_size(), 4);
  EXPECT_EQ(s0.labels(0).name(), "__name__");
  EXPECT_EQ(s0.labels(0).value(), "heartbeat_plugin_value");
  EXPECT_EQ(s0.labels(2).value(), "partitions./.percent");
  ASSERT_EQ(s0.samples_size(), 1);
  EXPECT_EQ(s0.samples(0).value(), 42.5);
  EXPECT_EQ(s0.samples(0).timestamp(), 1700000000123);
  EXPECT_EQ(req.timeseries(1).labels(1).value(), long_value);
  EXPECT_TRUE(std::signbit(req.timeseries(1).samples(0).value()));
  EXPECT_EQ(req.timeseries(2).samples(0).timestamp(), 4102444800000);
  EXPECT_TRUE(std::isinf(req.timeseries(2).samples(0).value()));

  // libprotobuf writes the same message to the same bytes.
  EXPECT_EQ(req.SerializeAsString(), std::string(w.bytes()));

  // A zero field is written where proto3 would leave it out: still the same message.
  w.clear();
  EXPECT_TRUE(w.empty());
  EXPECT_TRUE(w.bytes().empty());
  w.add(b, 0, 0);
  ASSERT_TRUE(req.ParseFromString(std::string(w.bytes())));
  EXPECT_EQ(req.timeseries(0).samples(0).timestamp(), 0);
  EXPECT_EQ(req.timeseries(0).samples(0).value(), 0);
}

TEST(RemoteWriteWire, StaleMarkerKeepsItsBits) {
  write_request w;
  std::vector<label> l = {{"__name__", "x"}};
  w.add(l, stale_nan(), 1);
  prometheus::WriteRequest req;
  ASSERT_TRUE(req.ParseFromString(std::string(w.bytes())));
  double v = req.timeseries(0).samples(0).value();
  std::uint64_t bits;
  std::memcpy(&bits, &v, 8);
  EXPECT_EQ(bits, 0x7ff0000000000002ull);
}

TEST(RemoteWriteWire, SnappyBlockRoundTrip) {
  std::string in;
  for (int i = 0; i < 1000; ++i) in += "heartbeat_plugin_value host web" + std::to_string(i % 7) + "\n";
  std::string z, back;
  snappy_compress(in, z);
  EXPECT_LT(z.size(), in.size() / 4);
  ASSERT_TRUE(snappy_uncompress(z, back));
  EXPECT_EQ(back, in);
  EXPECT_FALSE(snappy_uncompress("\xff\xff\xff\xff\xff garbage", back));
}

TEST(RemoteWriteWire, MillisecondsRound) {
  EXPECT_EQ(to_millis(1700000000.1234), 1700000000123);
  EXPECT_EQ(to_millis(1700000000.1236), 1700000000124);
  EXPECT_EQ(to_millis(0), 0);
  EXPECT_EQ(to_millis(1e300), 10000000000000000);
  EXPECT_EQ(to_millis(std::nan("")), 0);
}

TEST(RemoteWriteWire, RetryAfterSecondsAndDate) {
  EXPECT_EQ(parse_retry_after(" 7\r\n", 0), 7.0);
  EXPECT_EQ(parse_retry_after("0", 0), 0.0);
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111770), 7.0);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111800), 0.0);
  EXPECT_FALSE(parse_retry_after("soon", 0).has_value());
  EXPECT_FALSE(parse_retry_after("", 0).has_value());
}

}  // namespace
