// Passwords, roles, sessions, login rate limiting, CSRF and CORS decisions (api/auth.hpp).
#include "heartbeat/api/auth.hpp"

#include <gtest/gtest.h>

namespace api = heartbeat::api;

TEST(Password, HashHasWerkzeugFormAndVerifies) {
  auto h = api::hash_password("correct horse", 1000);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("pbkdf2:sha256:1000$", 0), 0u);
  auto parts = api::parse_password_hash(*h);
  EXPECT_TRUE(parts.valid());
  EXPECT_EQ(parts.salt.size(), 16u);
  EXPECT_EQ(parts.hash.size(), 64u);
  EXPECT_TRUE(api::verify_password("correct horse", *h));
  EXPECT_FALSE(api::verify_password("correct horsE", *h));
  EXPECT_FALSE(api::verify_password("", *h));
}

TEST(Password, SaltsDiffer) { EXPECT_NE(*api::hash_password("x", 1000), *api::hash_password("x", 1000)); }

TEST(Password, DefaultIterationsAre600000) { EXPECT_EQ(api::default_pbkdf2_iterations, 600000u); }

TEST(Password, KnownVectorFromPythonHashlib) {
  // hashlib.pbkdf2_hmac("sha256", b"secret123", b"saltsaltsalt1234", 1000).hex(), as Werkzeug stores it
  const std::string hex = "056983721bc6539a8e33acab59ab1ccb7bf17e9f809d50bcfdc353bca50637d7";
  EXPECT_TRUE(api::verify_password("secret123", "pbkdf2:sha256:1000$saltsaltsalt1234$" + hex));
  EXPECT_FALSE(api::verify_password("secret124", "pbkdf2:sha256:1000$saltsaltsalt1234$" + hex));
  std::string upper = hex;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(api::verify_password("secret123", "pbkdf2:sha256:1000$saltsaltsalt1234$" + upper));
}

TEST(Password, MalformedHashesNeverVerify) {
  for (const char* bad :
       {"", "plain", "pbkdf2:sha256:1000$salt", "pbkdf2:md5:1000$s$00", "pbkdf2:sha256:0$s$00",
        "pbkdf2:sha256:abc$s$00", "scrypt:32768:8:1$s$00", "pbkdf2:sha256:1000$s$"})
    EXPECT_FALSE(api::verify_password("x", bad)) << bad;
}

TEST(Roles, ReadmePermissions) {
  api::user alice{"alice", "", "", "", true, {}};
  api::user olivia{"olivia", "", "", "", false, {}};
  api::user mark{"mark", "", "", "", false, {}};
  api::user mona{"mona", "", "", "", false, {}};
  api::user carl{"carl", "", "", "", false, {}};
  api::host_access a{"olivia", {"mark"}, {"mona"}};
  EXPECT_EQ(api::role_on(alice, a), api::role::owner);  // admin: owner on every host
  EXPECT_EQ(api::role_on(olivia, a), api::role::owner);
  EXPECT_EQ(api::role_on(mark, a), api::role::manager);
  EXPECT_EQ(api::role_on(mona, a), api::role::monitor);
  EXPECT_EQ(api::role_on(carl, a), api::role::none);
  EXPECT_EQ(api::role_on(carl, api::host_access{}), api::role::none);
  // Higher roles include lower ones.
  EXPECT_GT(api::role::owner, api::role::manager);
  EXPECT_GT(api::role::manager, api::role::monitor);
  EXPECT_STREQ(api::to_string(api::role::manager), "manager");
}

TEST(Sessions, CreateFindExpireRevoke) {
  api::session_store s(10);
  auto a = s.create("bob", 100);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->token.size(), 64u);
  EXPECT_EQ(a->s.csrf.size(), 32u);
  ASSERT_NE(s.find(a->token, 105), nullptr);
  EXPECT_EQ(s.find(a->token, 105)->user, "bob");
  EXPECT_EQ(s.find(a->token, 110), nullptr);  // expired at created + ttl
  auto b = s.create("bob", 200);
  auto c = s.create("carol", 200);
  EXPECT_TRUE(s.revoke(b->token));
  EXPECT_EQ(s.find(b->token, 201), nullptr);
  EXPECT_NE(s.find(c->token, 201), nullptr);
  EXPECT_EQ(s.revoke_user("carol"), 1u);
  EXPECT_EQ(s.find(c->token, 201), nullptr);
  EXPECT_EQ(s.find("", 201), nullptr);
  EXPECT_EQ(s.find(std::string(1000, 'a'), 201), nullptr);
}

TEST(Sessions, FullStoreEvictsOldest) {
  api::session_store s(1000, 2);
  auto a = s.create("a", 1), b = s.create("b", 2), c = s.create("c", 3);
  EXPECT_EQ(s.find(a->token, 4), nullptr);
  EXPECT_NE(s.find(b->token, 4), nullptr);
  EXPECT_NE(s.find(c->token, 4), nullptr);
  EXPECT_EQ(s.size(), 2u);
}

TEST(RateLimit, BlocksAfterMaxFailuresInWindow) {
  api::rate_limiter r(3, 60);
  EXPECT_EQ(r.retry_after("k", 0), 0);
  r.fail("k", 0);
  r.fail("k", 10);
  EXPECT_EQ(r.retry_after("k", 11), 0);
  r.fail("k", 20);
  EXPECT_DOUBLE_EQ(r.retry_after("k", 21), 39);  // the first failure leaves the window at 60
  EXPECT_EQ(r.retry_after("other", 21), 0);
  EXPECT_EQ(r.retry_after("k", 60), 0);  // sliding: one failure left the window
  r.reset("k");
  EXPECT_EQ(r.keys(), 0u);
}

TEST(RateLimit, PerUserAndPerAddress) {
  api::login_limits l;
  for (int i = 0; i < 5; ++i) l.failed("10.0.0.1", "eve", i);
  EXPECT_GT(l.retry_after("10.0.0.9", "eve", 6), 0);    // eve is locked from anywhere
  EXPECT_EQ(l.retry_after("10.0.0.1", "alice", 6), 0);  // alice is not
  for (int i = 0; i < 20; ++i) l.failed("10.0.0.2", std::string("u").append(std::to_string(i)), i);
  EXPECT_GT(l.retry_after("10.0.0.2", "alice", 25), 0);  // the address is
  EXPECT_GE(l.retry_after("10.0.0.2", "alice", 25), 1);
}

TEST(RateLimit, DistinctKeysAreCapped) {
  api::rate_limiter r(3, 60, 100);
  for (int i = 0; i < 1000; ++i) r.fail(std::string("k").append(std::to_string(i)), 0);
  EXPECT_LE(r.keys(), 100u);
}

TEST(Csrf, TokenMustMatchExactly) {
  api::session s{"bob", "abcdef0123456789abcdef0123456789", 0, 10};
  EXPECT_TRUE(api::csrf_ok(s, "abcdef0123456789abcdef0123456789"));
  EXPECT_FALSE(api::csrf_ok(s, ""));
  EXPECT_FALSE(api::csrf_ok(s, "abcdef0123456789abcdef012345678"));
  EXPECT_FALSE(api::csrf_ok(s, "Abcdef0123456789abcdef0123456789"));
  EXPECT_TRUE(api::is_write_method("POST"));
  EXPECT_TRUE(api::is_write_method("DELETE"));
  EXPECT_FALSE(api::is_write_method("GET"));
}

TEST(Cors, OffByDefaultAndAllowList) {
  api::cors_policy off;
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(off.headers("https://a.example", true).empty());
  api::cors_policy p({"https://a.example"});
  EXPECT_TRUE(p.allows("https://a.example"));
  EXPECT_FALSE(p.allows("https://b.example"));
  auto h = p.headers("https://a.example", true);
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h[0].second, "https://a.example");
  api::cors_policy any({"*"});
  auto h2 = any.headers("https://z.example", false);
  ASSERT_FALSE(h2.empty());
  EXPECT_EQ(h2[0].second, "*");
  for (const auto& [k, v] : h2) EXPECT_NE(k, "Access-Control-Allow-Credentials");
}

TEST(Credentials, CookieAndBearerParsing) {
  EXPECT_EQ(api::cookie_value("a=1; hb_session=tok; b=2", "hb_session"), "tok");
  EXPECT_EQ(api::cookie_value("xhb_session=tok", "hb_session"), "");
  EXPECT_EQ(api::cookie_value("", "hb_session"), "");
  EXPECT_EQ(api::bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(api::bearer_token("bearer  abc"), "abc");
  EXPECT_EQ(api::bearer_token("Basic abc"), "");
  EXPECT_EQ(api::bearer_token("Bearer "), "");
}

TEST(Users, NamesAndJsonHidePassword) {
  EXPECT_TRUE(api::valid_user_name("alice.smith@x"));
  EXPECT_FALSE(api::valid_user_name("../x"));
  EXPECT_FALSE(api::valid_user_name(""));
  EXPECT_FALSE(api::valid_user_name(std::string(65, 'a')));
  api::user u{"bob", "Bob", "", "pbkdf2:sha256:1$s$00", false, {"mail"}};
  std::string j = api::user_json(u).dump();
  EXPECT_EQ(j.find("pbkdf2"), std::string::npos);
  EXPECT_NE(j.find("\"username\":\"bob\""), std::string::npos);
}
