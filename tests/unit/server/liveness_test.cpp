// The liveness clock and the registry judged on it: time-stepped tables of a
// socket that is read empty, stalls with datagrams waiting, and catches up; no
// host may go LATE or DOWN for datagrams that sit unread in the socket.
#include "heartbeat/server/liveness_clock.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "heartbeat/server/host_registry.hpp"

namespace hs = heartbeat::server;
namespace hp = heartbeat::protocol;

namespace {

struct step {
  double now;         // monotonic time of the monitor tick
  bool empty;         // what poll() finds at the tick
  double drained_at;  // the receive loop read the socket empty then (< 0: not since the last row)
  double live;        // expected liveness time
  double lag;         // expected lag
};

TEST(liveness_clock, follows_now_while_the_socket_is_read_empty_and_waits_for_a_backlog) {
  hs::liveness_clock c;
  bool empty = true;
  int id = c.add_source([&] { return empty; });
  const std::vector<step> table = {
      {100.00, true, -1, 100.00, 0},          // idle: the socket is empty at every tick
      {100.25, true, -1, 100.25, 0},          //
      {100.50, false, 100.45, 100.45, 0.05},  // busy but keeping up: last EAGAIN 50 ms ago
      {100.75, false, -1, 100.45, 0.30},      // the io thread stalls with datagrams waiting
      {110.00, false, -1, 100.45, 9.55},      // ... for ten seconds
      {110.25, false, 110.20, 110.20, 0.05},  // the loop drained the backlog
      {110.50, true, -1, 110.50, 0},          //
  };
  for (const auto& s : table) {
    empty = s.empty;
    if (s.drained_at >= 0) c.drained(id, s.drained_at);
    EXPECT_DOUBLE_EQ(c.advance(s.now), s.live) << "at " << s.now;
    EXPECT_NEAR(c.lag(), s.lag, 1e-9) << "at " << s.now;
  }
  EXPECT_EQ(c.episodes(), 1u);
  // The time between ticks while behind by more than a tick.
  EXPECT_NEAR(c.held_seconds(), 0.25 + 9.25, 1e-9);
  EXPECT_EQ(c.log_lines(), 1u);  // the episode's start; its end falls inside the same minute
}

// A socket busy from the moment it opened (hbd starting under a fleet's traffic) is behind by
// the time since it opened, not by the whole max_hold.
TEST(liveness_clock, a_socket_busy_since_it_opened_is_behind_since_then) {
  hs::liveness_clock c;
  c.add_source([] { return false; }, 100.0);
  EXPECT_DOUBLE_EQ(c.advance(100.25), 100.0);
  EXPECT_NEAR(c.lag(), 0.25, 1e-9);
  EXPECT_DOUBLE_EQ(c.advance(102.0), 100.0);
  EXPECT_EQ(c.episodes(), 1u);
}

TEST(liveness_clock, counts_a_late_tick_as_a_stall_of_the_io_thread) {
  hs::liveness_clock c;
  c.add_source([] { return true; });
  for (double t : {10.0, 10.25, 10.5, 14.5, 14.75, 16.0}) c.advance(t);
  EXPECT_EQ(c.stalls(), 2u);
  EXPECT_DOUBLE_EQ(c.longest_stall(), 4.0);
  EXPECT_EQ(c.episodes(), 0u);  // the socket was empty: nothing waited
}

TEST(liveness_clock, the_oldest_socket_holds_the_clock_and_a_removed_one_no_longer_does) {
  hs::liveness_clock c;
  bool v4_empty = true, v6_empty = false;
  c.add_source([&] { return v4_empty; });
  int v6 = c.add_source([&] { return v6_empty; });
  c.drained(v6, 50);
  EXPECT_DOUBLE_EQ(c.advance(52), 50);
  c.remove_source(v6);
  EXPECT_DOUBLE_EQ(c.advance(53), 53);
}

TEST(liveness_clock, never_goes_back_and_a_backlog_longer_than_max_hold_is_judged_regardless) {
  hs::liveness_clock c;
  bool empty = true;
  c.add_source([&] { return empty; });
  EXPECT_DOUBLE_EQ(c.advance(1000), 1000);
  empty = false;  // sustained overload: never read empty again
  EXPECT_DOUBLE_EQ(c.advance(1100), 1000);
  EXPECT_DOUBLE_EQ(c.advance(1000 + hs::liveness_clock::max_hold + 50), 1050);
  EXPECT_DOUBLE_EQ(c.advance(2000), 2000 - hs::liveness_clock::max_hold);
  EXPECT_EQ(c.episodes(), 1u);
}

TEST(liveness_clock, logs_at_most_once_a_minute) {
  hs::liveness_clock c;
  bool empty = true;
  c.add_source([&] { return empty; });
  double t = 0;
  // Ten minutes of two-second backlogs every five seconds.
  for (int i = 0; i < 120; ++i) {
    empty = true;
    c.advance(t += 1);
    empty = false;
    c.advance(t += 2);
    c.advance(t += 2);
  }
  EXPECT_EQ(c.episodes(), 120u);
  EXPECT_LE(c.log_lines(), 11u);
  EXPECT_GE(c.log_lines(), 9u);
}

hp::heartbeat_msg htb(const std::string& name, std::uint64_t seq, double interval) {
  hp::heartbeat_msg m;
  m.name = name;
  m.seq = seq;
  m.interval = interval;
  return m;
}

hs::source v4(std::uint8_t last) {
  hs::source s;
  s.family = hs::address_family::ipv4;
  s.addr = {127, 0, 0, last};
  s.port = 40000;
  return s;
}

struct registry_fixture : ::testing::Test {
  hs::config cfg;
  hs::stats st;
  std::unique_ptr<hs::host_registry> reg;
  std::vector<std::string> transitions;
  bool socket_empty = true;
  int sock = -1;
  double t0 = 1'000'000;

  void SetUp() override { make(); }
  void make() {
    cfg.grace = 5;
    cfg.interval = 10;
    reg = std::make_unique<hs::host_registry>(cfg, st, t0);
    reg->events().subscribe([this](const heartbeat::bus::event& e) {
      if (e.kind != heartbeat::bus::event_kind::host) return;
      if (const auto* t = e.data.find("transition"))
        transitions.push_back(e.host + ":" + std::string(t->find("to")->as_string()));
    });
    sock = reg->liveness().add_source([this] { return socket_empty; });
  }
  hs::host_state state(const char* n) const { return reg->find(n)->state; }
  void heartbeat(const char* n, std::uint64_t seq, double at) {
    reg->on_heartbeat(htb(n, seq, 10), false, v4(seq % 200 + 1), at);
  }
};

TEST_F(registry_fixture, a_stall_longer_than_grace_with_heartbeats_waiting_makes_no_host_late_or_down) {
  for (const char* n : {"a", "b"}) heartbeat(n, 1, t0);
  transitions.clear();
  // The io thread stalls at t0+5 for 40 s; both hosts keep sending every 10 s
  // into the socket buffer, but the monitor's ticks still run (e.g. its timer
  // fires first when the thread resumes).
  reg->tick(t0 + 5);
  socket_empty = false;
  for (double t = t0 + 5.25; t < t0 + 45; t += 0.25) reg->tick(t);
  EXPECT_EQ(state("a"), hs::host_state::up);
  EXPECT_EQ(state("b"), hs::host_state::up);
  EXPECT_TRUE(transitions.empty());
  EXPECT_GT(reg->liveness().lag(), 39.0);
  // The loop drains the backlog: host a's queued heartbeats arrive, host b had
  // stopped at t0 (nothing of it in the buffer).
  heartbeat("a", 2, t0 + 45.1);
  reg->liveness().drained(sock, t0 + 45.2);
  socket_empty = true;
  reg->tick(t0 + 45.25);
  EXPECT_EQ(state("a"), hs::host_state::up);
  EXPECT_EQ(state("b"), hs::host_state::down);  // judged as soon as the backlog is read
  EXPECT_EQ(transitions, std::vector<std::string>{"b:DOWN"});
  EXPECT_EQ(reg->liveness().episodes(), 1u);
}

TEST_F(registry_fixture, while_the_socket_keeps_up_deadlines_are_on_time) {
  heartbeat("a", 1, t0);
  struct row {
    double at;
    bool empty;
    hs::host_state want;
  };
  // Busy: poll() always finds datagrams, but the loop reads the socket empty every 10 ms.
  const std::vector<row> table = {
      {t0 + 10.4, false, hs::host_state::up},
      {t0 + 11.5, false, hs::host_state::late},
      {t0 + 14.9, true, hs::host_state::late},
      {t0 + 15.5, false, hs::host_state::down},
  };
  for (const auto& r : table) {
    socket_empty = r.empty;
    reg->liveness().drained(sock, r.at - 0.01);
    reg->tick(r.at);
    EXPECT_EQ(state("a"), r.want) << "at +" << r.at - t0;
  }
}

TEST_F(registry_fixture, configured_hosts_never_heard_of_wait_for_the_backlog_too) {
  cfg.hosts["quiet"].name = "quiet";
  make();
  socket_empty = false;  // stalled since start-up
  reg->tick(t0 + 30);
  EXPECT_EQ(state("quiet"), hs::host_state::unknown);
  socket_empty = true;
  reg->tick(t0 + 30.25);
  EXPECT_EQ(state("quiet"), hs::host_state::down);
}

}  // namespace
