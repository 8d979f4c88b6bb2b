// Partition detection with stepped time: many hosts going silent at once become one
// PARTITION (their DOWNs held back), their return one PARTITION OVER, and the hosts still
// DOWN a window later are released one by one. Canaries through the hook the active checks
// call. Then the same through notify::service's host events, with the journal.
#include "heartbeat/notify/partition.hpp"

#include <gmock/gmock.h>

#include <mutex>

#include "heartbeat/config/yaml.hpp"
#include "heartbeat/notify/service.hpp"

#include "../wait_for.hpp"

using namespace heartbeat;
using namespace heartbeat::notify;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using type = partition_detector::announcement::type;

namespace {

std::string host(int i) { return "h" + std::to_string(1000 + i); }

notification host_note(const std::string& h, kind k) {
  notification n;
  n.host = h;
  n.kind = k;
  n.level = k == kind::host_up ? level::ok : level::critical;
  n.text = k == kind::host_up ? up_text(h, "DOWN", 100) : down_text(h, 30);
  return n;
}

std::vector<std::string> texts(const std::vector<partition_detector::announcement>& v) {
  std::vector<std::string> out;
  for (const auto& a : v) out.push_back(a.text);
  return out;
}

partition_detector fleet(int hosts, partition_config c = {}) {
  partition_detector d(std::move(c));
  for (int i = 0; i < hosts; ++i) d.observe(host(i), "UP", 0);
  return d;
}

}  // namespace

// 200 hosts, 100 stop at once: one PARTITION, no DOWN; 97 come back: PARTITION OVER; one window
// later the 3 still DOWN are released for individual DOWN notifications.
TEST(NotifyPartition, HalfTheFleetSilentThenBack) {
  partition_detector d = fleet(200);
  EXPECT_EQ(d.up_hosts(), 200u);
  for (int i = 0; i < 100; ++i) d.observe(host(i), "LATE", 100 + i * 0.01, "UP", 99);
  EXPECT_TRUE(d.active());
  EXPECT_EQ(d.members(), 100u);
  EXPECT_THAT(d.tick(101), IsEmpty());  // the wave settles first (min(5 s, window / 4))
  EXPECT_THAT(
      texts(d.tick(106)),
      ElementsAre("PARTITION: 100 of 200 hosts went silent within 60s - hbd may be cut off from them"));
  for (int i = 0; i < 100; ++i) {
    d.observe(host(i), "DOWN", 115, "LATE");
    EXPECT_TRUE(d.hold(host_note(host(i), kind::host_down))) << host(i);
  }
  // Others are not part of it.
  EXPECT_FALSE(d.hold(host_note(host(150), kind::host_down)));
  EXPECT_THAT(d.tick(300), IsEmpty());
  for (int i = 0; i < 97; ++i) {
    d.observe(host(i), "UP", 520, "DOWN");
    EXPECT_TRUE(d.hold(host_note(host(i), kind::host_up)));  // its DOWN was never sent
  }
  EXPECT_THAT(d.tick(521), IsEmpty());
  auto over = d.tick(525);
  EXPECT_THAT(texts(over), ElementsAre("PARTITION OVER: 97 of 100 hosts are back after 7m"));
  EXPECT_EQ(over[0].what, type::over);
  EXPECT_THAT(d.tick(584), IsEmpty());
  auto release = d.tick(585);
  ASSERT_EQ(release.size(), 1u);
  EXPECT_EQ(release[0].what, type::release);
  EXPECT_THAT(release[0].down, ElementsAre(std::pair<std::string, double>{host(97), 99},
                                           std::pair<std::string, double>{host(98), 99},
                                           std::pair<std::string, double>{host(99), 99}));
  EXPECT_FALSE(d.active());
  // Afterwards a host's DOWN and UP are its own again.
  EXPECT_FALSE(d.hold(host_note(host(98), kind::host_up)));
  d.observe(host(5), "LATE", 700, "UP");
  EXPECT_FALSE(d.hold(host_note(host(5), kind::host_down)));
}

// Windows, settling and release run on the monotonic clock: hosts going silent a few seconds
// apart are one wave although the system clock stepped an hour between them, a wave spread over
// more monotonic time than the window is none although the wall times are close, and the release
// comes one window of monotonic time after PARTITION OVER while the texts keep wall time.
TEST(NotifyPartition, WindowsRunOnTheMonotonicClock) {
  using clock::instant;
  partition_detector d =
      fleet(20, partition_config{.threshold = 0.3, .min_hosts = 4, .window = 20, .canaries = {}});
  for (int i = 0; i < 6; ++i)  // the wall steps an hour forward and back between them
    d.observe(host(i), "LATE", instant(i % 2 ? 8600 : 5000, 100 + i * 0.5), "UP", 4990);
  EXPECT_TRUE(d.active());
  EXPECT_THAT(d.tick(instant(1e9, 103)), IsEmpty());  // the wave settles (5 s) whatever the wall says
  EXPECT_THAT(texts(d.tick(instant(0, 108))),
              ElementsAre("PARTITION: 6 of 20 hosts went silent within 20s - hbd may be cut off from them"));
  for (int i = 0; i < 5; ++i) d.observe(host(i), "UP", instant(9000, 200), "LATE");
  d.observe(host(5), "DOWN", instant(9000, 200), "LATE");
  EXPECT_TRUE(d.hold(host_note(host(5), kind::host_down)));
  EXPECT_THAT(texts(d.tick(instant(9005, 205))),
              ElementsAre("PARTITION OVER: 5 of 6 hosts are back after 1m"));
  EXPECT_THAT(d.tick(instant(9005 + 86400, 224)), IsEmpty());  // a wall step does not release early
  auto release = d.tick(instant(9030, 225));
  ASSERT_EQ(release.size(), 1u);
  EXPECT_THAT(release[0].down, ElementsAre(std::pair<std::string, double>{host(5), 4990}));

  partition_detector spread =
      fleet(10, partition_config{.threshold = 0.3, .min_hosts = 4, .window = 20, .canaries = {}});
  spread.observe(host(0), "LATE", instant(5000, 100), "UP");
  spread.observe(host(1), "LATE", instant(5001, 130), "UP");  // the wall stepped back 29 s
  spread.observe(host(2), "LATE", instant(5002, 160), "UP");
  EXPECT_FALSE(spread.active());
}

// Below the threshold, below min_hosts, spread over more than the window, or disabled: nothing.
TEST(NotifyPartition, OrdinaryFailuresStayOrdinary) {
  partition_detector a = fleet(200);
  for (int i = 0; i < 59; ++i) a.observe(host(i), "LATE", 100, "UP");  // 59 of 200 < 30 %
  EXPECT_FALSE(a.active());
  EXPECT_THAT(a.tick(200), IsEmpty());

  partition_detector b = fleet(9);
  for (int i = 0; i < 9; ++i) b.observe(host(i), "DOWN", 100, "UP");  // all, but fewer than min_hosts
  EXPECT_FALSE(b.active());

  partition_detector c = fleet(20);
  for (int i = 0; i < 10; ++i) c.observe(host(i), "LATE", 100 + i * 61.0, "UP");  // one per window
  EXPECT_FALSE(c.active());

  partition_config off;
  off.threshold = 0;
  partition_detector e = fleet(20, off);
  for (int i = 0; i < 20; ++i) e.observe(host(i), "LATE", 100, "UP");
  EXPECT_FALSE(e.active());
}

// A failing canary (an active check through the hook) makes any silence a partition, and the
// partition lasts until the canary passes again.
TEST(NotifyPartition, CanariesThroughTheHook) {
  partition_config cfg;
  cfg.canaries = {"uplink"};
  partition_detector d = fleet(50, cfg);
  d.canary("not-a-canary", false, 10);
  d.observe(host(0), "LATE", 20, "UP");
  EXPECT_FALSE(d.active());
  d.observe(host(0), "UP", 21, "LATE");
  d.canary("uplink", false, 30);
  d.observe(host(1), "LATE", 40, "UP");
  d.observe(host(2), "LATE", 40, "UP");
  EXPECT_TRUE(d.active());
  EXPECT_THAT(texts(d.tick(50)), ElementsAre("PARTITION: 2 of 50 hosts went silent within 60s - hbd may be "
                                             "cut off from them (canary uplink failing)"));
  d.observe(host(1), "UP", 60, "LATE");
  d.observe(host(2), "UP", 60, "LATE");
  EXPECT_THAT(d.tick(100), IsEmpty());  // the canary still fails
  d.canary("uplink", true, 110);
  EXPECT_THAT(texts(d.tick(110)), ElementsAre("PARTITION OVER: 2 of 2 hosts are back after 1m"));
}

TEST(NotifyPartition, ConfigAndTexts) {
  auto diagnose = [](const std::string& yaml, partition_config* out = nullptr) {
    config::diagnostics d;
    auto c = read_partition(*config::parse_yaml(yaml), d);
    if (out) *out = c;
    std::vector<std::string> v;
    for (const auto& i : d.items) v.push_back(i.text());
    return v;
  };
  partition_config c;
  EXPECT_THAT(diagnose("partition: {threshold: 0.5, min_hosts: 3, window: 2m}", &c), IsEmpty());
  EXPECT_EQ(c.threshold, 0.5);
  EXPECT_EQ(c.min_hosts, 3u);
  EXPECT_EQ(c.window, 120);
  EXPECT_THAT(diagnose("partition: {threshold: 2, min_hosts: 0, window: 0, colour: red}"),
              ElementsAre("partition.threshold: must be between 0 and 1",
                          "partition.min_hosts: must be between 1 and 1000000000",
                          "partition.window: must be more than 0 seconds",
                          "partition.colour: unknown key (ignored)"));
  EXPECT_THAT(diagnose("checks: {uplink: {type: ping}}\npartition: {canaries: [uplink, gateway]}"),
              ElementsAre("partition.canaries.1: no check named \"gateway\""));
  EXPECT_THAT(diagnose("checks: [{name: uplink}]\npartition: {canaries: [uplink]}"), IsEmpty());
  EXPECT_THAT(diagnose("partition: {canaries: [uplink]}"),
              ElementsAre("partition.canaries: no `checks` are configured: no canary will ever report"));
  EXPECT_EQ(partition_duration(45), "45s");
  EXPECT_EQ(partition_duration(420), "7m");
  EXPECT_EQ(partition_duration(7500), "2h 5m");
}

// Through the service: host events in, the held DOWNs journaled as "suppressed: partition",
// one PARTITION notification out (to every notifier: no users), then OVER and the release.
TEST(NotifyPartition, ServiceHoldsAndAnnounces) {
  std::mutex m;
  std::vector<std::string> sent;
  std::vector<journal_record> j;
  config::diagnostics diag;
  auto s = load_config(*config::parse_yaml("notifiers: {a: {type: webhook, url: 'http://unused/'}}\n"
                                           "partition: {window: 20, min_hosts: 4}\n"),
                       diag);
  std::vector<channel> chans{channel("a", "webhook", [&](const message& msg) {
    std::lock_guard lk(m);
    sent.push_back(msg.title);
    return send_status::success();
  })};
  service svc(
      s,
      [&](const journal_record& r) {
        std::lock_guard lk(m);
        j.push_back(r);
      },
      {}, std::move(chans));
  svc.start();
  auto event = [&](const std::string& h, const std::string& from, const std::string& to, double ts) {
    bus::event e;
    e.kind = bus::event_kind::host;
    e.host = h;
    e.ts = ts;
    e.data = json::value::object({{"state", to}, {"last_seen", 90.0}});
    if (!from.empty()) e.data.set("transition", json::value::object({{"from", from}, {"to", to}}));
    svc.on_event(e);
  };
  for (int i = 0; i < 10; ++i) event(host(i), "", "UP", 0);
  for (int i = 0; i < 5; ++i) event(host(i), "UP", "LATE", 100);
  svc.tick(105);
  for (int i = 0; i < 5; ++i) event(host(i), "LATE", "DOWN", 110);
  for (int i = 0; i < 4; ++i) event(host(i), "DOWN", "UP", 200);
  svc.tick(205);  // over
  svc.tick(225);  // release: h1004
  ASSERT_TRUE(hbtest::wait_for([&] { return svc.idle(); }));
  std::lock_guard lk(m);
  EXPECT_THAT(
      sent,
      ElementsAre("PARTITION: 5 of 10 hosts went silent within 20s - hbd may be cut off from them",
                  "PARTITION OVER: 4 of 5 hosts are back after 1m", "DOWN: h1004 - no heartbeat for 135s"));
  int held_down = 0, held_up = 0;
  for (const auto& r : j)
    if (r.outcome == outcome::suppressed && r.reason == "partition")
      (r.kind == kind::host_down ? held_down : held_up)++;
  EXPECT_EQ(held_down, 5);
  EXPECT_EQ(held_up, 4);
  EXPECT_EQ(svc.stats().get("", outcome::suppressed, reason::partition), 9u);
  int declared = 0;
  for (const auto& r : j) declared += r.outcome == outcome::partition;
  EXPECT_EQ(declared, 1);
}

// The hook the active checks call (service::report_canary, hbd::notifying::report_canary): with
// the canary failing, a single silent host is a partition; once it passes the detector is calm.
TEST(NotifyPartition, CanaryHookOfTheService) {
  config::diagnostics diag;
  auto s = load_config(*config::parse_yaml("checks: {uplink: {}}\npartition: {canaries: [uplink]}\n"), diag);
  EXPECT_FALSE(diag.has_errors());
  service svc(s);
  auto event = [&](const std::string& h, const std::string& from, const std::string& to, double ts) {
    bus::event e;
    e.kind = bus::event_kind::host;
    e.host = h;
    e.ts = ts;
    e.data = json::value::object({{"state", to}});
    if (!from.empty()) e.data.set("transition", json::value::object({{"from", from}, {"to", to}}));
    svc.on_event(e);
  };
  for (int i = 0; i < 30; ++i) svc.seed_host(host(i), "UP", 0);
  svc.report_canary("uplink", true, 5);
  event(host(0), "UP", "LATE", 10);
  EXPECT_FALSE(svc.partition().active());
  event(host(0), "LATE", "UP", 11);
  svc.report_canary("uplink", false, 20);
  event(host(1), "UP", "LATE", 30);
  EXPECT_TRUE(svc.partition().active());
  EXPECT_EQ(svc.partition().members(), 1u);
}
