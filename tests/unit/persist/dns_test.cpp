// DNS worker: the nsupdate payload and argv, name/address validation, the
// worker's dedup, timeout and retry, and a real update against BIND 9.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "heartbeat/server/dns.hpp"

#include "../loopback_udp.hpp"
#include "../temp_dir.hpp"
#include "../wait_for.hpp"

namespace fs = std::filesystem;
using namespace heartbeat;
using namespace heartbeat::server;
using namespace std::chrono_literals;

namespace {

using hbtest::temp_dir;
using hbtest::wait_for;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A stand-in for nsupdate that records argv and stdin, failing the first
// $FAILS runs (the real nsupdate runs in BindUpdatesRecords below).
fs::path write_fake(const fs::path& dir, int fails, bool hang = false) {
  fs::path p = dir / "fake-nsupdate";
  std::ofstream f(p);
  f << "#!/bin/sh\n"
    << "n=$(cat " << (dir / "count").string() << " 2>/dev/null || echo 0)\n"
    << "echo $((n+1)) > " << (dir / "count").string() << "\n"
    << "echo \"ARGV $*\" >> " << (dir / "log").string() << "\n"
    << "cat >> " << (dir / "log").string() << "\n"
    << (hang ? "sleep 30\n" : "") << "if [ $n -lt " << fails
    << " ]; then echo 'update failed: REFUSED' >&2; exit 2; fi\n"
    << "exit 0\n";
  f.close();
  fs::permissions(p, fs::perms::owner_all);
  return p;
}

}  // namespace

TEST(Dns, PayloadReplacesTheRecord) {
  dns_options o;
  o.server = "127.0.0.1";
  o.port = 5353;
  o.ttl = 60;
  dns_change c{"web1.dyn.example.com", "dyn.example.com", "A", "192.0.2.7"};
  EXPECT_EQ(nsupdate_script(c, o),
            "server 127.0.0.1 5353\n"
            "zone dyn.example.com.\n"
            "update delete web1.dyn.example.com. A\n"
            "update add web1.dyn.example.com. 60 A 192.0.2.7\n"
            "send\n");
  o.server.clear();
  c.type = "AAAA";
  c.address.clear();
  EXPECT_EQ(nsupdate_script(c, o),
            "zone dyn.example.com.\n"
            "update delete web1.dyn.example.com. AAAA\n"
            "send\n");
}

TEST(Dns, ArgvNamesTheKeyFileAndTimeout) {
  dns_options o;
  o.nsupdate_bin = "/usr/bin/nsupdate";
  o.key_file = "/etc/hb/tsig.key";
  o.timeout = 7000ms;
  EXPECT_EQ(nsupdate_argv(o),
            (std::vector<std::string>{"/usr/bin/nsupdate", "-t", "7", "-k", "/etc/hb/tsig.key"}));
}

TEST(Dns, NamesAndAddressesAreValidatedAndCanonical) {
  EXPECT_TRUE(valid_dns_name("web-01.example.com"));
  EXPECT_FALSE(valid_dns_name("web 01"));
  EXPECT_FALSE(valid_dns_name("web\nupdate add evil"));
  EXPECT_FALSE(valid_dns_name("-web"));
  EXPECT_FALSE(valid_dns_name("a..b"));
  EXPECT_FALSE(valid_dns_name(""));
  std::string a, t;
  ASSERT_TRUE(canonical_address("::ffff:192.0.2.1", a, t));
  EXPECT_EQ(a, "192.0.2.1");
  EXPECT_EQ(t, "A");
  ASSERT_TRUE(canonical_address("2001:DB8:0:0::1", a, t));
  EXPECT_EQ(a, "2001:db8::1");
  EXPECT_EQ(t, "AAAA");
  EXPECT_FALSE(canonical_address("192.0.2.1\nsend", a, t));
  EXPECT_EQ(dyn_fqdn("web1", "dyn.example.com."), "web1.dyn.example.com");
  EXPECT_EQ(dyn_fqdn("web1.dyn.example.com", "dyn.example.com"), "web1.dyn.example.com");
}

TEST(Dns, WorkerRetriesWithBackoffAndSkipsUnchangedAddresses) {
  temp_dir d;
  dns_options o;
  o.nsupdate_bin = write_fake(d.path, 2).string();
  o.dyndomains = {"dyn.example.com"};
  o.retry_base = 100ms;
  o.retry_max = 400ms;
  dns_worker w(o);
  ASSERT_TRUE(w.start().ok());
  EXPECT_TRUE(w.update("web1", "192.0.2.7"));
  ASSERT_TRUE(wait_for([&] { return w.stats().succeeded == 1; }, 5000ms))
      << "awaited succeeded == 1; runs " << w.stats().runs << ", succeeded " << w.stats().succeeded
      << ", failed " << w.stats().failed;
  EXPECT_EQ(w.stats().failed, 2u);
  EXPECT_EQ(w.stats().runs, 3u);
  // Same address again: nothing runs.
  EXPECT_TRUE(w.update("web1", "192.0.2.7"));
  EXPECT_EQ(w.stats().deduped, 1u);
  // A new address runs once more; the request via the API forces a run.
  EXPECT_TRUE(w.update("web1", "192.0.2.8"));
  ASSERT_TRUE(wait_for([&] { return w.stats().succeeded == 2; }, 5000ms))
      << "awaited succeeded == 2; runs " << w.stats().runs << ", succeeded " << w.stats().succeeded
      << ", failed " << w.stats().failed;
  EXPECT_TRUE(w.update("web1", "192.0.2.8", true));
  ASSERT_TRUE(wait_for([&] { return w.stats().succeeded == 3; }, 5000ms))
      << "awaited succeeded == 3; runs " << w.stats().runs << ", succeeded " << w.stats().succeeded
      << ", failed " << w.stats().failed;
  // Bad input never reaches nsupdate.
  EXPECT_FALSE(w.update("web1\nupdate add x", "192.0.2.9"));
  EXPECT_FALSE(w.update("web1", "not-an-address"));
  w.stop();
  std::string log = slurp(d.path / "log");
  EXPECT_NE(log.find("update add web1.dyn.example.com. 60 A 192.0.2.8\n"), std::string::npos);
  EXPECT_EQ(log.find("192.0.2.9"), std::string::npos);
}

TEST(Dns, WorkerKillsAHangingNsupdate) {
  temp_dir d;
  dns_options o;
  o.nsupdate_bin = write_fake(d.path, 0, true).string();
  o.dyndomains = {"dyn.example.com"};
  o.timeout = 300ms;
  o.retry_base = 10s;
  dns_worker w(o);
  ASSERT_TRUE(w.start().ok());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(w.update("web1", "192.0.2.7"));
  ASSERT_TRUE(wait_for([&] { return w.stats().failed == 1; }, 5000ms))
      << "awaited failed == 1; runs " << w.stats().runs << ", succeeded " << w.stats().succeeded
      << ", failed " << w.stats().failed;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  w.stop();
}

TEST(Dns, SinkFollowsDynHostsAndRemovesDroppedOnes) {
  temp_dir d;
  dns_options o;
  o.nsupdate_bin = write_fake(d.path, 0).string();
  o.dyndomains = {"dyn.example.com"};
  dns_worker w(o);
  ASSERT_TRUE(w.start().ok());
  auto sink = w.sink();
  json::value conns = json::value::array();
  conns.push_back(json::value::object({{"family", "ipv4"}, {"address", "192.0.2.1"}}));
  conns.push_back(json::value::object({{"family", "ipv6"}, {"address", "2001:db8::1"}}));
  sink(bus::event{bus::event_kind::host, 1, "nodyn",
                  json::value::object({{"dyn", false}, {"connections", conns}})});
  sink(bus::event{bus::event_kind::host, 1, "web1",
                  json::value::object({{"dyn", true}, {"connections", conns}})});
  ASSERT_TRUE(wait_for([&] { return w.stats().succeeded == 2; }, 5000ms))
      << "awaited succeeded == 2; runs " << w.stats().runs << ", succeeded " << w.stats().succeeded
      << ", failed " << w.stats().failed;
  sink(bus::event{bus::event_kind::dropped, 2, "web1", json::value::object({{"name", "web1"}})});
  ASSERT_TRUE(wait_for([&] { return w.stats().succeeded == 4; }, 5000ms))
      << "awaited succeeded == 4; runs " << w.stats().runs << ", succeeded " << w.stats().succeeded
      << ", failed " << w.stats().failed;
  w.stop();
  std::string log = slurp(d.path / "log");
  EXPECT_EQ(log.find("nodyn"), std::string::npos);
  EXPECT_NE(log.find("update add web1.dyn.example.com. 60 AAAA 2001:db8::1"), std::string::npos);
  EXPECT_NE(log.find("update delete web1.dyn.example.com. A\nsend"), std::string::npos);
}

// Against a real BIND 9.
namespace {

std::uint16_t free_port() {
  int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  std::uint16_t port = hbtest::bind_loopback(s);
  ::close(s);
  return port;
}

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");  // test helper only (dig, tsig-keygen)
  if (!p) return out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  return out;
}

}  // namespace

TEST(Dns, BindUpdatesRecords) {
  if (!fs::exists("/usr/sbin/named") || !fs::exists("/usr/bin/nsupdate") || !fs::exists("/usr/bin/dig"))
    GTEST_SKIP() << "bind9 / dnsutils not installed";
  temp_dir d;
  std::string zone = "dyn.test";
  std::uint16_t port = free_port();
  std::string key = run_capture("/usr/sbin/tsig-keygen -a hmac-sha256 hb-key");
  ASSERT_NE(key.find("secret"), std::string::npos);
  std::ofstream(d.path / "tsig.key") << key;
  std::ofstream(d.path / "zone.db") << "$TTL 60\n@ IN SOA ns." << zone << ". admin." << zone
                                    << ". 1 3600 600 86400 60\n@ IN NS ns." << zone
                                    << ".\nns IN A 127.0.0.1\n";
  std::ofstream(d.path / "named.conf")
      << "include \"" << (d.path / "tsig.key").string() << "\";\n"
      << "options { directory \"" << d.path.string() << "\"; pid-file \"" << (d.path / "named.pid").string()
      << "\"; listen-on port " << port << " { 127.0.0.1; }; listen-on-v6 { none; }; recursion no;"
      << " dnssec-validation no; };\n"
      << "controls { };\n"
      << "zone \"" << zone << "\" { type master; file \"" << (d.path / "zone.db").string()
      << "\"; allow-update { key hb-key; }; };\n";
  pid_t named = ::fork();
  ASSERT_GE(named, 0);
  if (named == 0) {
    int devnull = ::open((d.path / "named.log").c_str(), O_WRONLY | O_CREAT, 0600);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    std::string conf = (d.path / "named.conf").string();
    ::execl("/usr/sbin/named", "named", "-g", "-c", conf.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string dig = "/usr/bin/dig +short +time=1 +tries=1 -p " + std::to_string(port) + " @127.0.0.1 ";
  // "running" is logged once every zone is loaded and updates are accepted.
  bool up = wait_for(
      [&] {
        return slurp(d.path / "named.log").find("running") != std::string::npos &&
               run_capture(dig + "ns." + zone + " A").find("127.0.0.1") != std::string::npos;
      },
      10000ms, 20ms);
  if (!up) {
    ::kill(named, SIGKILL);
    ::waitpid(named, nullptr, 0);
    FAIL() << "named did not start: " << slurp(d.path / "named.log");
  }
  dns_options o;
  o.dyndomains = {zone};
  o.key_file = (d.path / "tsig.key").string();
  o.server = "127.0.0.1";
  o.port = port;
  o.timeout = 5000ms;
  o.retry_base = 300ms;
  dns_worker w(o);
  ASSERT_TRUE(w.start().ok());
  EXPECT_TRUE(w.update("web1", "192.0.2.44"));
  EXPECT_TRUE(w.update("web1", "2001:db8::44"));
  bool done = wait_for([&] { return w.stats().succeeded == 2; }, 10000ms);
  EXPECT_TRUE(done) << "awaited succeeded == 2; failed runs: " << w.stats().failed;
  EXPECT_EQ(run_capture(dig + "web1." + zone + " A"), "192.0.2.44\n");
  EXPECT_EQ(run_capture(dig + "web1." + zone + " AAAA"), "2001:db8::44\n");
  // Moves with the host.
  EXPECT_TRUE(w.update("web1", "192.0.2.45"));
  EXPECT_TRUE(wait_for([&] { return w.stats().succeeded == 3; }, 10000ms))
      << "awaited succeeded == 3; failed runs: " << w.stats().failed;
  EXPECT_EQ(run_capture(dig + "web1." + zone + " A"), "192.0.2.45\n");
  w.stop();
  ::kill(named, SIGTERM);
  int status = 0;
  if (!wait_for([&] { return ::waitpid(named, &status, WNOHANG) == named; }, 5000ms, 20ms)) {
    ::kill(named, SIGKILL);
    ::waitpid(named, &status, 0);
  }
}
