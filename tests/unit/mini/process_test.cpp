// hbc_mini's subprocesses: output captured through the poll loop, exit codes,
// signals, timeouts that kill the whole process group (grandchildren included),
// spawn failures, and children that see only descriptors 0-2.
#include "heartbeat/mini/process.hpp"

#include <gtest/gtest.h>

#include "../child_checks.hpp"

namespace {

using namespace heartbeat::mini;

process_result run(child_set& cs, std::vector<std::string> argv, double timeout = 5,
                   std::vector<std::string> env = {}) {
  process_result out;
  bool done = false;
  cs.spawn(argv, timeout, 1 << 16, env, [&](process_result&& r) {
    out = std::move(r);
    done = true;
  });
  while (!done) {
    std::vector<pollfd> fds;
    cs.add_pollfds(fds);
    ::poll(fds.data(), fds.size(), static_cast<int>(cs.wait_hint(mono_now()) * 1000) + 1);
    cs.poll_done();
  }
  return out;
}

TEST(MiniProcess, CapturesOutputAndExitCode) {
  child_set cs;
  auto r = run(cs, {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_TRUE(r.spawned);
  EXPECT_EQ(r.rc, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(cs.empty());
}

TEST(MiniProcess, PathLookupAndExtraEnvironment) {
  child_set cs;
  auto r = run(cs, {"sh", "-c", "echo $HB_UPGRADE_VERSION"}, 5, {"HB_UPGRADE_VERSION=1.2.3"});
  EXPECT_EQ(r.out, "1.2.3\n");
}

TEST(MiniProcess, TimeoutKillsTheProcessGroup) {
  child_set cs;
  double t0 = mono_now();
  auto r = run(cs, {"/bin/sh", "-c", "sleep 30 & sleep 30; echo never"}, 0.5);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(mono_now() - t0, 5);
  EXPECT_EQ(r.out, "");
}

TEST(MiniProcess, SignalAndMissingProgram) {
  child_set cs;
  auto r = run(cs, {"/bin/sh", "-c", "kill -9 $$"});
  EXPECT_EQ(r.rc, -9);
  r = run(cs, {"/nonexistent/program"});
  EXPECT_EQ(r.rc, 127);
  EXPECT_NE(r.err.find("exec failed"), std::string::npos);
  r = run(cs, {});
  EXPECT_FALSE(r.spawned);
}

TEST(MiniProcess, OutputIsCapped) {
  child_set cs;
  process_result out;
  bool done = false;
  cs.spawn({"/bin/sh", "-c", "yes | head -c 100000"}, 5, 1000, {}, [&](process_result&& r) {
    out = std::move(r);
    done = true;
  });
  while (!done) {
    std::vector<pollfd> fds;
    cs.add_pollfds(fds);
    ::poll(fds.data(), fds.size(), 10);
    cs.poll_done();
  }
  EXPECT_EQ(out.out.size(), 1000u);
  EXPECT_EQ(out.rc, 0);
}

TEST(MiniProcess, ChildSeesOnlyStdio) {
  hbtest::inheritable_socket sock;  // like hbc_mini's resolver and UDP sockets, minus the flag
  ASSERT_GE(sock.fd, 0);
  child_set cs;
  auto r = run(cs, {"/bin/ls", "/proc/self/fd"});
  EXPECT_EQ(r.rc, 0) << r.err;
  // 0-2, plus the directory ls opens to list (the lowest free number, 3).
  EXPECT_EQ(hbtest::fd_numbers(r.out), (std::set<int>{0, 1, 2, 3})) << r.out;
  r = run(cs, {"/bin/ls", "-l", "/proc/self/fd"});
  EXPECT_EQ(r.out.find("socket:"), std::string::npos) << r.out;
}

TEST(MiniProcess, TimeoutKillsGrandchildren) {
  child_set cs;
  auto r = run(cs, {"/bin/sh", "-c", "sleep 100 & echo $!; sleep 100"}, 0.3);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.rc, -9);
  ASSERT_FALSE(r.out.empty());
  int grandchild = std::stoi(r.out);
  EXPECT_TRUE(hbtest::gone_within(grandchild, std::chrono::seconds(2))) << "pid " << grandchild;
}

}  // namespace
