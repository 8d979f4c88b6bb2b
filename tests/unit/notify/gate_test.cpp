// Specification of the notifier's gate (several hbd nodes, docs/CLUSTER.md): a
// follower journals `suppressed: follower` and holds the notification; the leader
// records it in the outbox before sending and settles it once every delivery
// ended; a delivery due after leadership ended is not sent and its notification
// stays unsettled; a takeover sends what the gate hands back, with its id; the id
// travels as X-Heartbeat-Id, in the webhook body and as the mail's Message-ID.
#include "heartbeat/notify/gate.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <mutex>

#include "heartbeat/config/yaml.hpp"
#include "heartbeat/notify/channels/email.hpp"
#include "heartbeat/notify/channels/webhook.hpp"
#include "heartbeat/notify/service.hpp"

#include "../wait_for.hpp"

using namespace heartbeat;
using namespace heartbeat::notify;

namespace {

settings load(const std::string& yaml) {
  config::diagnostics d;
  return load_config(*config::parse_yaml(yaml), d);
}

notification down(const std::string& host) {
  notification n;
  n.host = host;
  n.kind = kind::host_down;
  n.level = n.severity = level::critical;
  n.to = "DOWN";
  n.text = "DOWN: " + host;
  n.ts = 100;
  return n;
}

struct fake_gate : delivery_gate {
  std::mutex m;
  std::atomic<bool> leader{false};
  std::atomic<bool> outbox_works{true};
  std::vector<std::string> recorded, settled_ids, held;
  std::vector<notification> handed;  // what takeover() returns

  bool may_send() override { return leader.load(); }
  bool record(const notification& n) override {
    std::lock_guard lk(m);
    if (!outbox_works) return false;
    recorded.push_back(n.id);
    return true;
  }
  void settled(const std::string& id) override {
    std::lock_guard lk(m);
    settled_ids.push_back(id);
  }
  void hold(const notification& n) override {
    std::lock_guard lk(m);
    held.push_back(n.text);
  }
  std::vector<notification> takeover() override {
    std::lock_guard lk(m);
    return std::move(handed);
  }
};

struct rig {
  std::mutex m;
  std::vector<message> sent;
  std::vector<journal_record> journal;
  std::shared_ptr<fake_gate> gate = std::make_shared<fake_gate>();
  std::unique_ptr<service> svc;

  explicit rig(std::function<send_status()> answer = [] { return send_status::success(); }) {
    std::vector<channel> chans{channel("hook", "webhook", [this, answer](const message& msg) {
      std::lock_guard lk(m);
      sent.push_back(msg);
      return answer();
    })};
    svc = std::make_unique<service>(
        load("notify: {retry_initial: 0.05}\nnotifiers: {hook: {type: webhook, url: 'http://unused/'}}\n"),
        [this](const journal_record& r) {
          std::lock_guard lk(m);
          journal.push_back(r);
        },
        service::post_fn{}, std::move(chans));
    svc->set_gate(gate);
    svc->start();
  }
  std::size_t sent_count() {
    std::lock_guard lk(m);
    return sent.size();
  }
  bool idle() {
    return hbtest::wait_for([&] { return svc->idle(); });
  }
};

}  // namespace

TEST(NotifyGate, AFollowerJournalsSuppressedFollowerAndHoldsTheNotification) {
  rig r;
  r.svc->submit(down("web01"));
  ASSERT_TRUE(r.idle());
  EXPECT_EQ(r.sent_count(), 0u);
  std::lock_guard lk(r.m);
  ASSERT_EQ(r.journal.size(), 1u);
  EXPECT_EQ(r.journal[0].outcome, outcome::suppressed);
  EXPECT_EQ(r.journal[0].reason, "follower");
  EXPECT_FALSE(r.journal[0].id.empty());
  EXPECT_EQ(r.journal[0].to_json().string_or("result", ""), "suppressed");
  EXPECT_EQ(r.gate->held, std::vector<std::string>{"DOWN: web01"});
  EXPECT_TRUE(r.gate->recorded.empty());
  EXPECT_EQ(r.svc->stats().get("", outcome::suppressed, follower_reason), 1u);
}

TEST(NotifyGate, TheLeaderRecordsBeforeSendingAndSettlesAfter) {
  rig r;
  r.gate->leader = true;
  r.svc->submit(down("web01"));
  ASSERT_TRUE(r.idle());
  ASSERT_EQ(r.sent_count(), 1u);
  std::lock_guard lk(r.m);
  ASSERT_EQ(r.gate->recorded.size(), 1u);
  EXPECT_EQ(r.sent[0].source.id, r.gate->recorded[0]) << "the id sent is the one recorded";
  EXPECT_EQ(r.gate->settled_ids, r.gate->recorded);
  ASSERT_FALSE(r.journal.empty());
  EXPECT_EQ(r.journal.back().outcome, outcome::sent);
  EXPECT_EQ(r.journal.back().id, r.gate->recorded[0]);
}

TEST(NotifyGate, AnOutboxThatCannotBeWrittenMakesTheLeaderHoldLikeAFollower) {
  rig r;
  r.gate->leader = true;
  r.gate->outbox_works = false;
  r.svc->submit(down("web01"));
  ASSERT_TRUE(r.idle());
  EXPECT_EQ(r.sent_count(), 0u);
  std::lock_guard lk(r.m);
  EXPECT_EQ(r.gate->held.size(), 1u);
}

TEST(NotifyGate, ARetryDueAfterLeadershipEndedIsNotSentAndStaysUnsettled) {
  std::atomic<int> calls{0};
  fake_gate* g = nullptr;
  rig r([&] {
    // The first try fails (recoverable); leadership ends before the retry.
    if (calls++ == 0) {
      g->leader = false;
      return send_status::retry("503");
    }
    return send_status::success();
  });
  g = r.gate.get();
  r.gate->leader = true;
  r.svc->submit(down("web01"));
  ASSERT_TRUE(r.idle());
  EXPECT_EQ(calls.load(), 1);
  std::lock_guard lk(r.m);
  EXPECT_EQ(r.gate->recorded.size(), 1u);
  EXPECT_TRUE(r.gate->settled_ids.empty()) << "the next leader sends it from the outbox";
  EXPECT_EQ(r.journal.back().outcome, outcome::suppressed);
  EXPECT_EQ(r.journal.back().reason, "follower");
}

TEST(NotifyGate, ATakeoverSendsWhatTheGateHandsBackWithItsId) {
  rig r;
  notification n = down("db01");
  n.id = "0123456789abcdef0123456789abcdef";
  r.gate->handed.push_back(n);
  r.gate->leader = true;
  r.svc->take_over();
  ASSERT_TRUE(r.idle());
  ASSERT_EQ(r.sent_count(), 1u);
  std::lock_guard lk(r.m);
  EXPECT_EQ(r.sent[0].source.id, n.id);
  EXPECT_TRUE(r.gate->recorded.empty()) << "already in the outbox: not recorded again";
  EXPECT_EQ(r.gate->settled_ids, std::vector<std::string>{n.id});
}

TEST(NotifyGate, TheIdTravelsInHeadersBodyAndMessageId) {
  notification n = down("web01");
  n.id = "feedfacefeedfacefeedfacefeedface";
  message m = make_message(n);
  auto body = json::parse(channels::webhook::payload(m));
  ASSERT_TRUE(body);
  EXPECT_EQ(body->string_or("id", ""), n.id);
  std::vector<std::string> headers;
  channels::add_id_header(headers, m);
  EXPECT_EQ(headers, std::vector<std::string>{"X-Heartbeat-Id: " + n.id});
  std::string mail = channels::email::render(m, "hbd@example.org", {"ops@example.org"});
  EXPECT_NE(mail.find("Message-ID: <" + n.id + ".hbd@example.org>\r\n"), std::string::npos) << mail;
}

TEST(NotifyGate, RecordsRoundTripAndKeysIgnoreThePreviousState) {
  notification n = down("web01");
  n.id = "abc";
  n.from = "UP";
  n.value = 3.5;
  notification back = notification_from_record(json::parse(notification_record(n).dump()).value());
  EXPECT_EQ(back.id, "abc");
  EXPECT_EQ(back.kind, kind::host_down);
  EXPECT_EQ(back.level, level::critical);
  EXPECT_EQ(back.text, n.text);
  EXPECT_EQ(back.value, 3.5);
  notification late = n;
  late.from = "LATE";  // another node saw the host LATE first
  EXPECT_EQ(notification_key(n), notification_key(late));
  EXPECT_NE(new_notification_id(), new_notification_id());
  EXPECT_EQ(new_notification_id().size(), 32u);
}

// A new leader sends what it takes over exactly as the old one would have: to the same
// recipients, along the same ladder, with every field of the notification.
TEST(NotifyGate, RecordsCarryEveryField) {
  notification n;
  n.host = "web01";
  n.kind = kind::partition;
  n.level = level::critical;
  n.severity = level::critical;
  n.text = "PARTITION: 12 hosts silent";
  n.metric_path = "http.status";
  n.value = 503;
  n.threshold = 500;
  n.from = "OK";
  n.to = "CRITICAL";
  n.duration = 42;
  n.ts = 1700000000.5;
  n.escalation = "night";
  n.recipients = {"alice", "bob"};
  n.id = "0123456789abcdef0123456789abcdef";
  notification back = notification_from_record(json::parse(notification_record(n).dump()).value());
  EXPECT_EQ(back.host, n.host);
  EXPECT_EQ(back.kind, kind::partition);
  EXPECT_EQ(back.level, n.level);
  EXPECT_EQ(back.severity, n.severity);
  EXPECT_EQ(back.text, n.text);
  EXPECT_EQ(back.metric_path, n.metric_path);
  EXPECT_EQ(back.value, n.value);
  EXPECT_EQ(back.threshold, n.threshold);
  EXPECT_EQ(back.from, n.from);
  EXPECT_EQ(back.to, n.to);
  EXPECT_EQ(back.duration, n.duration);
  EXPECT_EQ(back.ts, n.ts);
  EXPECT_EQ(back.escalation, n.escalation);
  EXPECT_EQ(back.recipients, n.recipients);
  EXPECT_EQ(back.id, n.id);

  for (kind k : {kind::host_down, kind::host_up, kind::host_stopped, kind::alert, kind::reminder,
                 kind::channel_failure, kind::digest, kind::partition}) {
    notification one;
    one.kind = k;
    EXPECT_EQ(notification_from_record(notification_record(one)).kind, k) << to_string(k);
  }
  for (level l : {level::ok, level::unknown, level::warning, level::critical}) {
    notification one;
    one.level = one.severity = l;
    notification again = notification_from_record(notification_record(one));
    EXPECT_EQ(again.level, l);
    EXPECT_EQ(again.severity, l);
  }

  notification bare = notification_from_record(notification_record(notification{}));
  EXPECT_TRUE(bare.recipients.empty());
  EXPECT_TRUE(bare.escalation.empty());
  EXPECT_TRUE(std::isnan(bare.value));
  EXPECT_TRUE(std::isnan(bare.threshold));
}
