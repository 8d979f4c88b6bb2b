// Host admission (max_hosts, the new-host token bucket, accept_hosts, plugin names per
// host) and the monotonic deadlines of the registry: a step of the wall clock moves no
// host and expires no command. Stepped by hand through clock::instant values.
#include <gtest/gtest.h>

#include <string>

#include "heartbeat/server/host_registry.hpp"

namespace hs = heartbeat::server;
namespace hp = heartbeat::protocol;
using heartbeat::clock::instant;

namespace {

hs::source src() {
  hs::source s;
  s.addr = {127, 0, 0, 1};
  s.port = 40000;
  return s;
}

hp::heartbeat_msg htb(const std::string& name, std::uint64_t seq = 1, double interval = 10) {
  hp::heartbeat_msg m;
  m.name = name;
  m.seq = seq;
  m.interval = interval;
  return m;
}

hp::plugin_msg plg(const std::string& name, const std::string& plugin) {
  hp::plugin_msg m;
  m.name = name;
  m.plugin = plugin;
  m.data_json = "{\"v\":1}";
  return m;
}

}  // namespace

TEST(Admission, MaxHostsRefusesNewNamesButNotKnownOnes) {
  hs::config c;
  c.admission.max_hosts = 2;
  hs::stats st;
  hs::host_registry reg(c, st, 100.0);
  EXPECT_NE(reg.on_heartbeat(htb("a"), false, src(), 101.0).h, nullptr);
  EXPECT_NE(reg.on_heartbeat(htb("b"), false, src(), 101.0).h, nullptr);
  auto r = reg.on_heartbeat(htb("c"), false, src(), 101.0);
  EXPECT_EQ(r.h, nullptr);
  EXPECT_EQ(r.refused, hp::reject::host_limit);
  EXPECT_EQ(reg.on_plugin(plg("c", "p"), src(), 101.0).refused, hp::reject::host_limit);
  EXPECT_EQ(reg.size(), 2u);
  EXPECT_NE(reg.on_heartbeat(htb("a", 2), false, src(), 102.0).h, nullptr);
}

TEST(Admission, NewHostsComeFromATokenBucketThatRefillsOverAMinute) {
  hs::config c;
  c.admission.max_new_hosts_per_minute = 60;  // one a second, bursts of 60
  hs::stats st;
  hs::host_registry reg(c, st, 0.0);
  int made = 0;
  for (int i = 0; i < 100; ++i)
    if (reg.on_heartbeat(htb("h" + std::to_string(i)), false, src(), 1.0).h) ++made;
  EXPECT_EQ(made, 60);
  EXPECT_EQ(reg.on_heartbeat(htb("late"), false, src(), 1.5).refused, hp::reject::host_rate);
  // Two seconds of monotonic time later two more fit, whatever the wall clock says.
  EXPECT_NE(reg.on_heartbeat(htb("x1"), false, src(), instant(1e9, 3.0)).h, nullptr);
  EXPECT_NE(reg.on_heartbeat(htb("x2"), false, src(), instant(5.0, 3.0)).h, nullptr);
  EXPECT_EQ(reg.on_heartbeat(htb("x3"), false, src(), instant(9.0, 3.0)).refused, hp::reject::host_rate);
}

TEST(Admission, ConfiguredModeRefusesOtherNamesAndHostsDroppedFromTheConfig) {
  hs::config c;
  c.admission.accept_hosts = hs::accept_mode::configured;
  c.hosts["web01"].name = "web01";
  hs::stats st;
  hs::host_registry reg(c, st, 0.0);
  EXPECT_NE(reg.on_heartbeat(htb("web01"), false, src(), 1.0).h, nullptr);
  hp::message_msg m;
  m.name = "stranger";
  m.msg = "hello";
  EXPECT_EQ(reg.on_message(m, src(), 1.0).refused, hp::reject::not_configured);
  EXPECT_EQ(reg.on_heartbeat(htb("stranger"), false, src(), 1.0).refused, hp::reject::not_configured);
  EXPECT_EQ(reg.size(), 1u);
  hs::config next = c;
  next.hosts.clear();
  reg.apply_config(next, 2.0);  // web01 stays known (it has data) but is no longer accepted
  EXPECT_EQ(reg.on_heartbeat(htb("web01", 2), false, src(), 3.0).refused, hp::reject::not_configured);
}

TEST(Admission, PluginNamesPerHostAreBounded) {
  hs::config c;
  c.admission.max_plugins_per_host = 2;
  hs::stats st;
  hs::host_registry reg(c, st, 0.0);
  EXPECT_NE(reg.on_plugin(plg("a", "p1"), src(), 1.0).h, nullptr);
  EXPECT_NE(reg.on_plugin(plg("a", "p2"), src(), 1.0).h, nullptr);
  EXPECT_EQ(reg.on_plugin(plg("a", "p3"), src(), 1.0).refused, hp::reject::plugin_limit);
  EXPECT_NE(reg.on_plugin(plg("a", "p1"), src(), 2.0).h, nullptr);  // a known plugin keeps updating
  EXPECT_EQ(reg.find("a")->plugins.size(), 2u);
}

TEST(Admission, DnsFollowsOnlyAuthenticatedHeartbeats) {
  hs::config c;
  c.hosts["web01"].name = "web01";
  c.hosts["web01"].dyn = true;
  c.hosts["web01"].key = "0123456789abcdef0123";
  hs::stats st;
  hs::host_registry reg(c, st, 0.0);
  int updates = 0;
  reg.hooks().dns_update = [&](const hs::host&, bool) { ++updates; };
  reg.on_heartbeat(htb("web01"), false, src(), 1.0);
  EXPECT_EQ(updates, 0);
  hs::source other = src();
  other.addr = {10, 0, 0, 9};
  reg.on_heartbeat(htb("web01", 2), true, other, 2.0);
  EXPECT_EQ(updates, 1);
}

// The wall clock jumps 2 h either way between heartbeats: no connection goes LATE or DOWN, and
// a silent host still goes DOWN after interval + grace of monotonic time.
TEST(MonotonicDeadlines, WallClockStepsMoveNoHost) {
  hs::config c;
  c.grace = 5;
  hs::stats st;
  hs::host_registry reg(c, st, instant(1000, 50));
  std::vector<std::string> transitions;
  reg.events().subscribe([&](const heartbeat::bus::event& e) {
    if (const auto* t = e.data.find("transition"))
      transitions.push_back(e.host + " " + t->string_or("to", ""));
  });
  double mono = 50, offset = 950;
  for (int i = 1; i <= 40; ++i) {
    if (i == 10) offset += 7200;
    if (i == 20) offset -= 14400;
    mono += 0.25;
    if (i % 8 == 1) {
      reg.on_heartbeat(htb("web01", static_cast<std::uint64_t>(i)), false, src(),
                       instant(mono + offset, mono));
      reg.on_heartbeat(htb("db01", static_cast<std::uint64_t>(i)), false, src(),
                       instant(mono + offset, mono));
    }
    reg.tick(instant(mono + offset, mono));
  }
  EXPECT_EQ(transitions, (std::vector<std::string>{"web01 UP", "db01 UP"}));
  EXPECT_EQ(reg.find("web01")->state, hs::host_state::up);
  // db01 falls silent while the wall clock stands 2 h back: DOWN at interval + grace.
  for (int i = 0; i < 80; ++i) {
    mono += 0.25;
    reg.on_heartbeat(htb("web01", 100 + static_cast<std::uint64_t>(i)), false, src(),
                     instant(mono + offset, mono));
    reg.tick(instant(mono + offset, mono));
  }
  EXPECT_EQ(reg.find("db01")->state, hs::host_state::down);
  EXPECT_EQ(reg.find("web01")->state, hs::host_state::up);
}

TEST(MonotonicDeadlines, CommandsExpireByElapsedTimeAndRestoredHostsAreMapped) {
  hs::config c;
  c.command_ttl = 60;
  c.hosts["web01"].name = "web01";
  c.hosts["web01"].key = "0123456789abcdef0123";
  hs::stats st;
  hs::host_registry reg(c, st, instant(1000, 10));
  reg.on_heartbeat(htb("web01", 1, 3600), true, src(), instant(1001, 11));
  ASSERT_TRUE(reg.queue_command("web01", "uptime", {}, "alice", instant(1002, 12)));
  reg.tick(instant(1002 + 7200, 13));  // two hours forward on the wall, one second passed
  EXPECT_TRUE(reg.find("web01")->commands.front().pending());
  reg.tick(instant(1002 - 7200, 73));  // back on the wall, 61 s passed
  EXPECT_EQ(reg.find("web01")->commands.front().state, hs::command_state::expired);

  // A host restored from the store: its connection's last_seen (wall 1001) is mapped once onto the
  // monotonic clock of the new run.
  hs::host_registry again(c, st, instant(5000, 7));
  again.restore_host_json(reg.host_json(*reg.find("web01"), 0), instant(5000, 7));
  EXPECT_DOUBLE_EQ(again.find("web01")->conn(hs::address_family::ipv4).heard, 7.0 - (5000 - 1001));
}
