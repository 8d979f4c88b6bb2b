// Journal: line format, rotation under load with every line accounted for,
// backups limit, event sink filtering.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "heartbeat/server/journal.hpp"

#include "../temp_dir.hpp"

namespace fs = std::filesystem;
using namespace heartbeat;
using namespace heartbeat::server;

namespace {

using hbtest::temp_dir;

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < all.size()) {
    auto nl = all.find('\n', start);
    EXPECT_NE(nl, std::string::npos) << "file " << p << " ends without a newline (split line)";
    if (nl == std::string::npos) break;
    out.push_back(all.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace

TEST(Journal, MessageLineHasTheSeedShape) {
  std::string line;
  journal::format_message_line(line, 1711234567.123, "192.168.1.100", 50003,
                               R"({"ID":"HTB","name":"webserver1","interval":30})");
  EXPECT_EQ(
      line,
      "{\"timestamp\":1711234567.123,\"datetime\":\"2024-03-23T22:56:07\",\"source_ip\":\"192.168.1.100\","
      "\"source_port\":50003,\"message\":{\"ID\":\"HTB\",\"name\":\"webserver1\",\"interval\":30}}\n");
}

TEST(Journal, LineBreaksInsideTheMessageNeverSplitTheLine) {
  std::string line;
  journal::format_message_line(line, 1, "::1", 1, "{\n  \"ID\": \"MSG\",\r\n  \"msg\": \"a\\nb\"\n}");
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto v = json::parse(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->find("message")->string_or("msg", ""), "a\nb");
}

TEST(Journal, WritesMessagesAndEventsAndFlushesOnStop) {
  temp_dir d;
  journal j({.enabled = true, .dir = (d.path / "sub" / "dir").string(), .file = "messages.journal"});
  ASSERT_TRUE(j.start().ok());
  EXPECT_TRUE(j.append_message("10.0.0.1", 40000, 1000.5, R"({"ID":"HTB","name":"a","interval":30})"));
  bus::event e{bus::event_kind::alert, 1001, "a",
               json::value::object({{"metric_path", "cpu.x"}, {"to", "WARNING"}})};
  EXPECT_TRUE(j.append_event(e));
  j.stop();
  auto lines = read_lines(d.path / "sub" / "dir" / "messages.journal");
  ASSERT_EQ(lines.size(), 2u);
  auto m = json::parse(lines[0]);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->string_or("source_ip", ""), "10.0.0.1");
  EXPECT_EQ(m->number_or("source_port", 0), 40000);
  EXPECT_EQ(m->find("message")->string_or("name", ""), "a");
  auto ev = json::parse(lines[1]);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->string_or("event", ""), "alert");
  EXPECT_EQ(ev->string_or("host", ""), "a");
  EXPECT_EQ(ev->find("data")->string_or("to", ""), "WARNING");
  EXPECT_EQ(j.stats().lines_written, 2u);
}

TEST(Journal, RotationUnderLoadLosesAndSplitsNothing) {
  temp_dir d;
  const std::uint64_t max_size = 8192;
  journal j({.enabled = true,
             .dir = d.path.string(),
             .file = "m.journal",
             .max_size = max_size,
             .max_backups = 5000,
             .queue_bytes = 64 << 10});
  ASSERT_TRUE(j.start().ok());
  const int n = 50000;
  std::string body;
  for (int i = 0; i < n; ++i) {
    body =
        "{\"ID\":\"HTB\",\"name\":\"host-" + std::to_string(i % 97) + "\",\"seq\":" + std::to_string(i) + "}";
    j.append_message("127.0.0.1", 50000, 1700000000.0 + i, body);
  }
  j.stop();
  auto st = j.stats();
  EXPECT_EQ(st.lines_written + st.dropped, static_cast<std::uint64_t>(n));
  EXPECT_EQ(st.write_errors, 0u);
  EXPECT_GT(st.rotations, 10u);

  std::set<long> seen;
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(d.path)) {
    ++files;
    EXPECT_LE(fs::file_size(entry.path()), max_size) << entry.path();
    for (const auto& line : read_lines(entry.path())) {
      auto v = json::parse(line);
      ASSERT_TRUE(v.ok()) << "not JSON: " << line;
      long seq = static_cast<long>(v->find("message")->number_or("seq", -1));
      EXPECT_TRUE(seen.insert(seq).second) << "duplicate " << seq;
    }
  }
  EXPECT_EQ(files, st.rotations + 1);
  EXPECT_EQ(seen.size(), st.lines_written);
}

TEST(Journal, KeepsOnlyMaxBackups) {
  temp_dir d;
  journal j({.enabled = true,
             .dir = d.path.string(),
             .file = "m.journal",
             .max_size = 4096,
             .max_backups = 3,
             .queue_bytes = 8 << 20});
  ASSERT_TRUE(j.start().ok());
  for (int i = 0; i < 2000; ++i)
    j.append_message("127.0.0.1", 1, i, "{\"ID\":\"HTB\",\"seq\":" + std::to_string(i) + "}");
  j.stop();
  EXPECT_TRUE(fs::exists(d.path / "m.journal"));
  EXPECT_TRUE(fs::exists(d.path / "m.journal.1"));
  EXPECT_TRUE(fs::exists(d.path / "m.journal.3"));
  EXPECT_FALSE(fs::exists(d.path / "m.journal.4"));
  // The newest line is in the live file, the backups are older in order.
  auto live = read_lines(d.path / "m.journal");
  ASSERT_FALSE(live.empty());
  EXPECT_NE(live.back().find("\"seq\":1999}"), std::string::npos);
  auto b1 = read_lines(d.path / "m.journal.1");
  auto b3 = read_lines(d.path / "m.journal.3");
  ASSERT_FALSE(b1.empty());
  ASSERT_FALSE(b3.empty());
  EXPECT_GT(json::parse(b1.front())->number_or("timestamp", 0),
            json::parse(b3.front())->number_or("timestamp", 0));
}

TEST(Journal, AppendsToAnExistingFileAndCountsAFullQueue) {
  temp_dir d;
  { std::ofstream(d.path / "m.journal") << "{\"old\":true}\n"; }
  journal j({.enabled = true, .dir = d.path.string(), .file = "m.journal", .queue_bytes = 1});
  // Not started: nothing accepted, nothing counted.
  EXPECT_FALSE(j.append_message("127.0.0.1", 1, 1, "{}"));
  ASSERT_TRUE(j.start().ok());
  int ok = 0;
  for (int i = 0; i < 1000; ++i) ok += j.append_message("127.0.0.1", 1, i, "{}");
  j.stop();
  auto st = j.stats();
  EXPECT_EQ(st.lines_written, static_cast<std::uint64_t>(ok));
  EXPECT_EQ(st.lines_written + st.dropped, 1000u);
  auto lines = read_lines(d.path / "m.journal");
  EXPECT_EQ(lines.front(), "{\"old\":true}");
  EXPECT_EQ(lines.size(), 1u + st.lines_written);
}

TEST(Journal, SinkJournalsStateChangesNotEveryHostEvent) {
  temp_dir d;
  journal j({.enabled = true, .dir = d.path.string(), .file = "m.journal"});
  ASSERT_TRUE(j.start().ok());
  auto sink = j.sink();
  auto host = [](const char* state, const char* addr, double seen) {
    json::value c =
        json::value::object({{"family", "ipv4"}, {"address", addr}, {"state", state}, {"last_seen", seen}});
    json::value conns = json::value::array();
    conns.push_back(c);
    return json::value::object({{"name", "h"}, {"state", state}, {"connections", std::move(conns)}});
  };
  sink(bus::event{bus::event_kind::host, 1, "h", host("UP", "10.0.0.1", 1)});
  sink(bus::event{bus::event_kind::host, 2, "h", host("UP", "10.0.0.1", 2)});  // only last_seen moved
  sink(bus::event{bus::event_kind::host, 3, "h", host("UP", "10.0.0.2", 3)});  // address changed
  sink(bus::event{bus::event_kind::host, 4, "h", host("DOWN", "10.0.0.2", 3)});
  sink(bus::event{bus::event_kind::plugin, 5, "h",
                  json::value::object({{"plugin", "cpu"}})});  // journaled as datagram
  sink(bus::event{bus::event_kind::command, 6, "h", json::value::object({{"id", "c-1"}})});
  j.stop();
  auto lines = read_lines(d.path / "m.journal");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[2].find("\"DOWN\""), std::string::npos);
  EXPECT_NE(lines[3].find("\"event\":\"command\""), std::string::npos);
}

TEST(Journal, DisabledJournalCreatesNothing) {
  temp_dir d;
  journal j({.enabled = false, .dir = (d.path / "j").string()});
  ASSERT_TRUE(j.start().ok());
  EXPECT_FALSE(j.append_message("127.0.0.1", 1, 1, "{}"));
  j.stop();
  EXPECT_FALSE(fs::exists(d.path / "j"));
}

// Under a flood of datagram lines the journal sheds them first: the last quarter of its queue
// stays for event lines (state changes, alerts), so none of those is lost.
TEST(Journal, ShedsDatagramLinesBeforeEvents) {
  temp_dir d;
  journal j({.enabled = true, .dir = d.path.string(), .file = "m.journal", .queue_bytes = 64 << 10});
  ASSERT_TRUE(j.start().ok());
  const int n = 100000,
            every = 1000;  // the free quarter holds ~100 events: the writer never stalls that long
  int events = 0;
  for (int i = 0; i < n; ++i) {
    j.append_message("127.0.0.1", 50000, 1700000000.0 + i,
                     "{\"ID\":\"HTB\",\"name\":\"host-" + std::to_string(i % 97) +
                         "\",\"seq\":" + std::to_string(i) + "}");
    if (i % every == 0) {
      EXPECT_TRUE(j.append_event(bus::event{bus::event_kind::host, 1700000000.0 + i, "web1",
                                            json::value::object({{"name", "web1"}, {"state", "DOWN"}})}));
      ++events;
    }
  }
  j.stop();
  auto st = j.stats();
  EXPECT_EQ(st.lines_written + st.dropped, static_cast<std::uint64_t>(n + events));
  EXPECT_LE(st.shed, st.dropped);
  if (st.dropped > 0) {
    EXPECT_GT(st.shed, 0u);  // what was lost was shed detail
  }
  int event_lines = 0;
  for (const auto& l : read_lines(d.path / "m.journal"))
    event_lines += l.find("\"event\":\"host\"") != std::string::npos;
  EXPECT_EQ(event_lines, events);
}
