// SHA-256 (FIPS 180-4 examples) and HMAC-SHA256 (RFC 4231) vectors for the built-in
// implementation, and agreement with OpenSSL through both codec policies.
#include "heartbeat/core/sha256.hpp"

#include <gtest/gtest.h>

#include <string>

#include "heartbeat/protocol/builtin_policy.hpp"
#include "heartbeat/protocol/system_policy.hpp"

namespace {

using heartbeat::crypto::digest256;
using heartbeat::crypto::hmac_sha256;
using heartbeat::crypto::sha256;

std::string hex(const digest256& d) {
  static const char* x = "0123456789abcdef";
  std::string s;
  for (auto b : d) {
    s.push_back(x[b >> 4]);
    s.push_back(x[b & 15]);
  }
  return s;
}

std::string unhex(std::string_view h) {
  std::string s;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    s.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return s;
}

TEST(Sha256, Fips180Examples) {
  EXPECT_EQ(hex(sha256::hash("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha256::hash("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256::hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  sha256 h;
  std::string a(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.update(a);  // one million 'a', in pieces
  EXPECT_EQ(hex(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, SplitUpdatesMatchOneShot) {
  std::string msg;
  for (int i = 0; i < 300; ++i) msg.push_back(static_cast<char>(i * 7));
  for (std::size_t cut = 0; cut <= msg.size(); cut += 13) {
    sha256 h;
    h.update(std::string_view(msg).substr(0, cut));
    h.update(std::string_view(msg).substr(cut));
    EXPECT_EQ(h.finish(), sha256::hash(msg)) << cut;
  }
}

struct rfc4231_case {
  std::string key, data, mac;
};

// RFC 4231 section 4 test cases 1-4, 6, 7 (case 5 truncates the output).
std::vector<rfc4231_case> rfc4231() {
  return {
      {unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. The key needs "
       "to be "
       "hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
}

TEST(HmacSha256, Rfc4231Vectors) {
  for (const auto& c : rfc4231()) {
    EXPECT_EQ(hex(hmac_sha256(c.key, c.data)), c.mac);
    EXPECT_EQ(hex(heartbeat::protocol::builtin_policy::hmac(c.key, c.data.data(), c.data.size())), c.mac);
    EXPECT_EQ(hex(heartbeat::protocol::system_policy::hmac(c.key, c.data.data(), c.data.size())), c.mac);
  }
}

TEST(HmacSha256, ConstantTimeCompare) {
  std::uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 5};
  EXPECT_TRUE(heartbeat::crypto::equal_constant_time(a, a, 4));
  EXPECT_FALSE(heartbeat::crypto::equal_constant_time(a, b, 4));
}

}  // namespace
