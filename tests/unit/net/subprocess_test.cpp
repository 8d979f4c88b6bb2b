// The subprocess runner of hbd and hbc (net/subprocess.hpp): a child sees only
// descriptors 0-2, a timeout kills the whole process group (grandchildren too),
// stdin feeding, merged stderr, the blocking entry point and its cancel flag.
#include "heartbeat/net/subprocess.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>

#include "../child_checks.hpp"

using namespace heartbeat;
using namespace heartbeat::net;

namespace {

process_result run_async(const std::vector<std::string>& argv, process_options o = {}) {
  asio::io_context io;
  std::optional<process_result> out;
  asio::co_spawn(
      io,
      [](const std::vector<std::string>& a, process_options opts, std::optional<process_result>& r)
          -> awaitable<void> { r = co_await run_process(a, std::move(opts)); }(argv, std::move(o), out),
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  return std::move(*out);
}

TEST(Subprocess, ChildSeesOnlyStdio) {
  hbtest::inheritable_socket sock;  // what hbc holds: UDP sockets without close-on-exec
  ASSERT_GE(sock.fd, 0);
  asio::io_context io;
  asio::ip::udp::socket asio_sock(io, asio::ip::udp::endpoint(asio::ip::address_v4::loopback(), 0));
  for (bool blocking : {false, true}) {
    SCOPED_TRACE(blocking ? "blocking" : "coroutine");
    auto r = blocking ? run_process_blocking({"/bin/ls", "/proc/self/fd"})
                      : run_async({"/bin/ls", "/proc/self/fd"});
    ASSERT_TRUE(r.spawned) << r.err;
    EXPECT_EQ(r.rc, 0) << r.err;
    // 0-2, plus the directory ls opens to list (the lowest free number, 3).
    EXPECT_EQ(hbtest::fd_numbers(r.out), (std::set<int>{0, 1, 2, 3})) << r.out;
    auto l = run_async({"/bin/ls", "-l", "/proc/self/fd"});
    EXPECT_EQ(l.out.find("socket:"), std::string::npos) << l.out;
  }
}

TEST(Subprocess, TimeoutKillsGrandchildren) {
  process_options o;
  o.timeout = std::chrono::milliseconds(300);
  for (bool blocking : {false, true}) {
    SCOPED_TRACE(blocking ? "blocking" : "coroutine");
    std::vector<std::string> argv{"/bin/sh", "-c", "sleep 100 & echo $!; sleep 100"};
    auto start = std::chrono::steady_clock::now();
    auto r = blocking ? run_process_blocking(argv, o) : run_async(argv, o);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.rc, -9);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    ASSERT_FALSE(r.out.empty());
    int grandchild = std::stoi(r.out);
    EXPECT_TRUE(hbtest::gone_within(grandchild, std::chrono::seconds(2))) << "pid " << grandchild;
  }
}

TEST(Subprocess, StdinAndMergedStderr) {
  process_options o;
  o.input = "update add a.example. 60 A 192.0.2.1\nsend\n";
  o.merge_stderr = true;
  auto r = run_process_blocking({"/bin/sh", "-c", "cat; echo done >&2; exit 2"}, o);
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.out, o.input + "done\n");
  EXPECT_EQ(r.err, "");
  // More than a pipe holds goes through while the output is read.
  process_options big;
  big.input.assign(1 << 20, 'x');
  big.max_output = 2 << 20;
  auto c = run_async({"/bin/cat"}, big);
  EXPECT_EQ(c.rc, 0);
  EXPECT_EQ(c.out.size(), big.input.size());
  // Without input, stdin is /dev/null: a reader sees EOF at once.
  auto n = run_async({"/bin/cat"});
  EXPECT_EQ(n.rc, 0);
  EXPECT_EQ(n.out, "");
}

TEST(Subprocess, ChildThatIgnoresItsInputCostsNoSigpipe) {
  // More than a pipe holds, to a program that exits without reading: the write
  // fails with EPIPE instead of raising SIGPIPE in this (non-ignoring) process.
  process_options o;
  o.input.assign(1 << 20, 'x');
  auto r = run_process_blocking({"/bin/true"}, o);
  EXPECT_TRUE(r.spawned);
  EXPECT_EQ(r.rc, 0);
  EXPECT_FALSE(r.timed_out);
}

TEST(Subprocess, CancelStopsABlockingRun) {
  std::atomic<bool> stop{false};
  process_options o;
  o.timeout = std::chrono::seconds(30);
  o.cancel = &stop;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
  });
  auto start = std::chrono::steady_clock::now();
  auto r = run_process_blocking({"/bin/sleep", "30"}, o);
  t.join();
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(Subprocess, MissingProgramAndEmptyArgv) {
  auto m = run_process_blocking({"/nonexistent/program"});
  EXPECT_FALSE(m.spawned);
  EXPECT_EQ(m.rc, 127);
  EXPECT_EQ(m.err, "/nonexistent/program: No such file or directory");
  auto e = run_async({});
  EXPECT_FALSE(e.spawned);
  EXPECT_EQ(e.err, "empty command");
}

}  // namespace
