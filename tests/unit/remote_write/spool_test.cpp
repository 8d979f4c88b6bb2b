// The on-disk spool: records come back oldest first across segments and across a reopen (the
// cursor survives), a torn record is cut off, the size bound drops the oldest segments with their
// samples counted, and a second process cannot open the same directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "heartbeat/remote_write/spool.hpp"

#include "../temp_dir.hpp"

using namespace heartbeat::remote_write;
namespace fs = std::filesystem;

namespace {

std::string payload(int i, std::size_t n = 100) { return std::string(n, static_cast<char>('a' + i % 26)); }

// Sends (pops) everything; returns the payloads' first characters and sample counts.
std::vector<std::pair<char, std::uint32_t>> drain(spool& s, std::size_t max = 1000) {
  std::vector<std::pair<char, std::uint32_t>> out;
  spool::record r;
  while (out.size() < max && s.front(r)) {
    out.emplace_back(r.payload.empty() ? '?' : r.payload[0], r.samples);
    s.pop(r.at, r.samples, spool::header_bytes + r.payload.size());
  }
  return out;
}

std::vector<fs::path> segments(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".seg") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(RemoteWriteSpool, OldestFirstAcrossSegmentsAndReopen) {
  hbtest::temp_dir t;
  std::string dir = (t.path / "vm").string();
  {
    spool s(dir, 1 << 20);  // segments of 128 KiB
    ASSERT_TRUE(s.open().ok());
    EXPECT_TRUE(s.empty());
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(s.append(10 + i, payload(i, 10000)).ok());
    EXPECT_GT(segments(dir).size(), 1u);
    EXPECT_EQ(s.samples(), 30u * 10 + 29 * 30 / 2);
    auto first = drain(s, 5);
    ASSERT_EQ(first.size(), 5u);
    EXPECT_EQ(first[0], std::make_pair('a', 10u));
    EXPECT_EQ(first[4], std::make_pair('e', 14u));
  }  // closed like at shutdown (or killed: the cursor is written on every pop)
  spool s(dir, 1 << 20);
  ASSERT_TRUE(s.open().ok());
  auto rest = drain(s);
  ASSERT_EQ(rest.size(), 25u);
  EXPECT_EQ(rest[0], std::make_pair('f', 15u));
  EXPECT_EQ(rest.back(), std::make_pair(static_cast<char>('a' + 29 % 26), 39u));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.bytes(), 0u);
  // New records after it ran empty.
  ASSERT_TRUE(s.append(1, payload(7)).ok());
  EXPECT_FALSE(s.empty());
  EXPECT_EQ(drain(s).size(), 1u);
  s.close();
  spool again(dir, 1 << 20);
  ASSERT_TRUE(again.open().ok());
  EXPECT_TRUE(again.empty());
}

TEST(RemoteWriteSpool, TornRecordIsCutOff) {
  hbtest::temp_dir t;
  std::string dir = (t.path / "vm").string();
  {
    spool s(dir, 1 << 20);
    ASSERT_TRUE(s.open().ok());
    ASSERT_TRUE(s.append(5, payload(0)).ok());
    ASSERT_TRUE(s.append(6, payload(1)).ok());
  }
  auto seg = segments(dir).at(0);
  auto size = fs::file_size(seg);
  fs::resize_file(seg, size - 30);  // a crash in the middle of the second record
  spool s(dir, 1 << 20);
  ASSERT_TRUE(s.open().ok());
  EXPECT_EQ(fs::file_size(seg), spool::header_bytes + 100);
  auto got = drain(s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], std::make_pair('a', 5u));

  // A corrupt payload (CRC mismatch) ends the readable part the same way.
  ASSERT_TRUE(s.append(7, payload(2)).ok());
  ASSERT_TRUE(s.append(8, payload(3)).ok());
  s.close();
  auto last = segments(dir).back();
  int fd = ::open(last.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "Z", 1, static_cast<off_t>(spool::header_bytes + 100 + spool::header_bytes + 5)), 1);
  ::close(fd);
  spool s2(dir, 1 << 20);
  ASSERT_TRUE(s2.open().ok());
  got = drain(s2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], std::make_pair('c', 7u));
}

TEST(RemoteWriteSpool, BoundDropsTheOldestSegments) {
  hbtest::temp_dir t;
  std::string dir = (t.path / "vm").string();
  spool s(dir, 1 << 20);  // 1 MiB in segments of 128 KiB
  ASSERT_TRUE(s.open().ok());
  for (int i = 0; i < 400; ++i) ASSERT_TRUE(s.append(1, payload(i, 10000)).ok());
  std::uintmax_t on_disk = 0;
  for (const auto& p : segments(dir)) on_disk += fs::file_size(p);
  EXPECT_LE(on_disk, 1u << 20);
  EXPECT_GT(s.dropped_samples(), 250u);
  EXPECT_EQ(s.dropped_samples() + s.samples(), 400u);
  auto got = drain(s);
  EXPECT_EQ(got.size(), 400u - s.dropped_samples());
  // What is left is the newest, in order.
  EXPECT_EQ(got.back().first, static_cast<char>('a' + 399 % 26));
}

TEST(RemoteWriteSpool, OneProcessPerDirectory) {
  hbtest::temp_dir t;
  std::string dir = (t.path / "vm").string();
  spool a(dir, 1 << 20);
  ASSERT_TRUE(a.open().ok());
  spool b(dir, 1 << 20);
  auto r = b.open();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, "spool_locked");
}

}  // namespace
