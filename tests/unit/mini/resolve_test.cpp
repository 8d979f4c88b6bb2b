// hbc_mini's NSS-free resolver: literals, hosts(5), resolv.conf(5) and a real A/AAAA
// exchange with a small DNS responder on loopback.
#include "heartbeat/mini/resolve.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "../loopback_udp.hpp"

namespace {

using namespace heartbeat::mini;

TEST(MiniResolve, NumericAddresses) {
  address a;
  ASSERT_TRUE(parse_numeric("127.0.0.1", 50003, a));
  EXPECT_TRUE(a.is_v4());
  EXPECT_EQ(a.text(), "127.0.0.1");
  EXPECT_EQ(a.port(), 50003);
  ASSERT_TRUE(parse_numeric("[::1]", 7, a));
  EXPECT_FALSE(a.is_v4());
  EXPECT_EQ(a.text(), "::1");
  EXPECT_FALSE(parse_numeric("localhost", 1, a));
  EXPECT_FALSE(parse_numeric("1.2.3", 1, a));
}

TEST(MiniResolve, HostsFile) {
  std::string text =
      "127.0.0.1 localhost\n# comment 10.0.0.1 hb\n10.0.0.2  hb.example.com   HB  # main\n"
      "fd00::2 hb\n::1 ip6-localhost\n";
  auto v = parse_hosts(text, "hb", 50003);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].text(), "10.0.0.2");
  EXPECT_EQ(v[1].text(), "fd00::2");
  EXPECT_TRUE(parse_hosts(text, "nothere", 1).empty());
  EXPECT_EQ(parse_hosts(text, "HB.EXAMPLE.COM", 1).size(), 1u);
}

TEST(MiniResolve, ResolvConf) {
  auto rc =
      parse_resolv_conf("# x\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nsearch a.example b.example\n");
  ASSERT_EQ(rc.servers.size(), 2u);
  EXPECT_EQ(rc.servers[0].text(), "192.0.2.53");
  EXPECT_EQ(rc.servers[0].port(), 53);
  EXPECT_EQ(rc.search, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(parse_resolv_conf("").servers.at(0).text(), "127.0.0.1");
}

TEST(MiniResolve, MalformedResponsesAreRejected) {
  unsigned char junk[20] = {0x12, 0x34};
  bool ok = true;
  EXPECT_TRUE(detail::parse_dns_response(junk, 5, 0x1234, 1, 1, ok).empty());
  EXPECT_FALSE(ok);
  EXPECT_TRUE(detail::parse_dns_response(junk, sizeof junk, 0x1234, 1, 1, ok).empty());  // QR bit unset
  EXPECT_FALSE(ok);
  EXPECT_TRUE(detail::dns_query_packet(1, "a..b", 1).empty());
}

// A one-thread DNS responder: answers A with 10.1.2.3 (behind a CNAME) and AAAA with fd00::7.
struct fake_dns {
  int fd = -1;
  std::uint16_t port = 0;
  std::atomic<int> queries{0};
  std::thread t;
  fake_dns() {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    port = hbtest::bind_loopback(fd);
    t = std::thread([this] {
      for (int n = 0; n < 2; ++n) {
        unsigned char q[512];
        sockaddr_storage from{};
        socklen_t fl = sizeof from;
        ssize_t got = ::recvfrom(fd, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (got < 12) return;
        ++queries;
        std::size_t qend = 12;
        while (q[qend]) qend += 1 + q[qend];
        qend += 5;
        unsigned qtype = (q[qend - 4] << 8) | q[qend - 3];
        std::string r(reinterpret_cast<char*>(q), qend);
        r[2] = static_cast<char>(0x81);
        r[3] = static_cast<char>(0x80);
        r[7] = 2;  // two answers: a CNAME then the address
        r.append("\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x0c", 14);
        if (qtype == 1)
          r.append("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x01\x02\x03", 16);
        else {
          r.append("\xc0\x0c\x00\x1c\x00\x01\x00\x00\x00\x3c\x00\x10", 12);
          r.append("\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07", 16);
        }
        ::sendto(fd, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
      }
    });
  }
  ~fake_dns() {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    if (t.joinable()) t.join();
  }
};

TEST(MiniResolve, DnsQueryAgainstALocalResponder) {
  fake_dns dns;
  unsigned char lo[4] = {127, 0, 0, 1};
  std::vector<address> servers{address::v4(lo, dns.port)};
  auto v4 = dns_lookup("hb.example.com", 1, servers, 50003, 2.0);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0].text(), "10.1.2.3");
  EXPECT_EQ(v4[0].port(), 50003);
  auto v6 = dns_lookup("hb.example.com", 28, servers, 50003, 2.0);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].text(), "fd00::7");
  EXPECT_EQ(dns.queries.load(), 2);
}

TEST(MiniResolve, ResolveUsesHostsFileBeforeDns) {
  std::string dir = ::testing::TempDir();
  std::string hosts = dir + "/hosts", rc = dir + "/resolv.conf";
  std::ofstream(hosts) << "10.9.9.9 hbserver\n";
  std::ofstream(rc) << "nameserver 127.0.0.1\n";
  resolver_files f{hosts, rc};
  auto v = resolve("hbserver", 50003, f);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].text(), "10.9.9.9");
  EXPECT_EQ(resolve("::1", 5, f).at(0).text(), "::1");
}

// An answer counts only with our id and our question; truncated answers are asked again over TCP.
std::string answer_to(const std::string& q, bool truncated, bool spoof_question = false) {
  std::string r = q;
  r[2] = static_cast<char>(truncated ? 0x83 : 0x81);
  r[3] = static_cast<char>(0x80);
  if (spoof_question) r[13] = 'x';  // another name
  if (!truncated) {
    r[7] = 1;
    r.append("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x01\x02\x03", 16);
  }
  return r;
}

TEST(MiniResolve, AnswersMustCarryOurIdAndQuestion) {
  std::string q = detail::dns_query_packet(0x4242, "hb.example.com", 1);
  auto parse = [&](const std::string& a, std::uint16_t id, bool& ok, bool& tc) {
    return detail::parse_dns_response(reinterpret_cast<const unsigned char*>(a.data()), a.size(), id, 1, 53,
                                      ok, q, &tc);
  };
  bool ok = false, tc = false;
  EXPECT_EQ(parse(answer_to(q, false), 0x4242, ok, tc).size(), 1u);
  EXPECT_TRUE(ok);
  EXPECT_TRUE(parse(answer_to(q, false, true), 0x4242, ok, tc).empty());
  EXPECT_FALSE(ok) << "an answer to another question is not ours";
  EXPECT_TRUE(parse(answer_to(q, false), 0x4243, ok, tc).empty());
  EXPECT_FALSE(ok);
  EXPECT_TRUE(parse(answer_to(q, true), 0x4242, ok, tc).empty());
  EXPECT_TRUE(ok && tc);
  std::uint16_t first = detail::random_query_id();
  bool differs = false;
  for (int i = 0; i < 8; ++i) differs = differs || detail::random_query_id() != first;
  EXPECT_TRUE(differs);
}

// A responder whose UDP answer is truncated and whose TCP answer (same port) is whole.
TEST(MiniResolve, TruncatedAnswerIsAskedAgainOverTcp) {
  int u = ::socket(AF_INET, SOCK_DGRAM, 0), t = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(t, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  ::getsockname(t, reinterpret_cast<sockaddr*>(&sa), &len);
  ASSERT_EQ(::bind(u, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ::listen(t, 1);
  std::atomic<int> tcp_queries{0};
  std::thread server([&] {
    unsigned char q[512];
    sockaddr_storage from{};
    socklen_t fl = sizeof from;
    ssize_t got = ::recvfrom(u, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &fl);
    if (got < 12) return;
    std::string a = answer_to(std::string(reinterpret_cast<char*>(q), static_cast<std::size_t>(got)), true);
    ::sendto(u, a.data(), a.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
    int c = ::accept(t, nullptr, nullptr);
    if (c < 0) return;
    unsigned char buf[514];
    std::size_t have = 0;
    while (have < 2 || have < 2u + ((buf[0] << 8) | buf[1])) {
      ssize_t n = ::recv(c, buf + have, sizeof buf - have, 0);
      if (n <= 0) break;
      have += static_cast<std::size_t>(n);
    }
    ++tcp_queries;
    std::string whole = answer_to(std::string(reinterpret_cast<char*>(buf + 2), have - 2), false);
    std::string framed{static_cast<char>(whole.size() >> 8), static_cast<char>(whole.size() & 0xFF)};
    framed += whole;
    ::send(c, framed.data(), framed.size(), 0);
    ::close(c);
  });
  std::vector<address> servers{address::v4(&sa.sin_addr, ntohs(sa.sin_port))};
  auto v = dns_lookup("hb.example.com", 1, servers, 50003, 2.0);
  server.join();
  ::close(u);
  ::close(t);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].text(), "10.1.2.3");
  EXPECT_EQ(tcp_queries.load(), 1);
}

}  // namespace
