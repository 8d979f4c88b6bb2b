// Specification of what the channels put on the wire: the mail text, the
// webhook payload and its HMAC-SHA256 signature.
#include "heartbeat/notify/channels.hpp"

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::notify;

TEST(NotifyChannels, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(detail::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(detail::base64("hello"), "aGVsbG8=");
}

// A line starting with '.' stays as it is: libcurl dot-stuffs the SMTP upload itself.
TEST(NotifyChannels, MailHasTheTextAsSubjectAndLeavesDotStuffingToCurl) {
  notification n;
  n.host = "web01";
  n.kind = kind::alert;
  n.level = level::warning;
  n.text = "WARNING: web01 - cpu_monitor.cpu_percent = 85.0";
  n.ts = 1767268800;
  message m = make_message(n);
  m.body += ".hidden line\n";
  std::string mail = channels::email::render(m, "hb@example.com", {"ops@example.com", "dev@example.com"});
  EXPECT_NE(mail.find("Subject: WARNING: web01 - cpu_monitor.cpu_percent = 85.0\r\n"), std::string::npos)
      << mail;
  EXPECT_NE(mail.find("From: hb@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("To: ops@example.com, dev@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("\r\n\r\nWARNING: web01 - cpu_monitor.cpu_percent = 85.0\r\n"), std::string::npos);
  EXPECT_NE(mail.find("time: 2026-01-01T12:00:00Z\r\n"), std::string::npos);
  EXPECT_NE(mail.find("\r\n.hidden line\r\n"), std::string::npos);
  EXPECT_EQ(mail.find("..hidden"), std::string::npos);
  m.title = "WARNING: h\xc3\xb6st\r\nBcc: x";
  mail = channels::email::render(m, "hb@example.com", {"ops@example.com"});
  EXPECT_NE(mail.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_EQ(mail.find("Bcc:"), std::string::npos) << "no header injection";
}

TEST(NotifyChannels, WebhookPayloadCarriesTheNotificationAndDigestItems) {
  notification n;
  n.host = "web01";
  n.metric_path = "cpu_monitor.cpu_percent";
  n.level = level::critical;
  n.value = 95.5;
  n.text = "CRITICAL: web01 - cpu_monitor.cpu_percent = 95.5";
  n.ts = 10;
  message m = make_message(n);
  m.user = "alice";
  auto v = json::parse(channels::webhook::payload(m));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->string_or("host", ""), "web01");
  EXPECT_EQ(v->string_or("level", ""), "CRITICAL");
  EXPECT_EQ(v->string_or("kind", ""), "alert");
  EXPECT_EQ(v->number_or("value", 0), 95.5);
  EXPECT_EQ(v->string_or("user", ""), "alice");
  m.digest = true;
  m.title = "DIGEST: 2 more notifications";
  m.items = {n, n};
  v = json::parse(channels::webhook::payload(m));
  EXPECT_TRUE(v->bool_or("digest", false));
  EXPECT_EQ(v->find("items")->size(), 2u);
}

TEST(NotifyChannels, UnreachableReceiversAreRecoverableBadUrlsAreNot) {
  detail::curl_init_once();
  json::value cfg =
      json::value::object({{"type", "webhook"}, {"url", "http://127.0.0.1:1/x"}, {"timeout", 2}});
  channels::webhook w(cfg);
  notification n;
  n.text = "x";
  auto st = w.notify(make_message(n));
  EXPECT_FALSE(st.ok);
  EXPECT_TRUE(st.recoverable) << st.error;
  channels::webhook bad(json::value::object({{"type", "webhook"}, {"url", "gopher://127.0.0.1:1/x"}}));
  st = bad.notify(make_message(n));
  EXPECT_FALSE(st.ok);
  EXPECT_FALSE(st.recoverable) << st.error;
}
