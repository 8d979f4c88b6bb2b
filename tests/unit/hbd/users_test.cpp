// API user changes in the store: the users table round trip through load(), the file mode that keeps
// password hashes from other users, and the overlay's precedence over the config file's users
// (created, changed and deleted users; a later config edit wins).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "heartbeat/hbd/user_overlay.hpp"

#include "../store_file.hpp"

namespace fs = std::filesystem;
using namespace heartbeat;
using namespace heartbeat::server;
using namespace heartbeat::hbd;

namespace {

using StoreUsers = hbtest::store_file_test;

api::user make_user(std::string name, std::string pw, bool admin = false) {
  api::user u;
  u.name = std::move(name);
  u.password = std::move(pw);
  u.admin = admin;
  return u;
}

std::map<std::string, api::user> by_name(const std::vector<api::user>& v) {
  std::map<std::string, api::user> m;
  for (const auto& u : v) m[u.name] = u;
  return m;
}

}  // namespace

TEST_F(StoreUsers, RowsRoundTripAndTheFileIsClosedToOthers) {
  {
    store s({.path = path});
    ASSERT_TRUE(s.load().ok());
    ASSERT_TRUE(s.start().ok());
    s.put_user("bob", R"({"base":"-","user":{"username":"bob","password":"h1"}})", 1);
    s.put_user("carl", R"({"base":"-","deleted":true})", 2);
    s.put_user("dave", R"({"base":"-","user":{"username":"dave"}})", 3);
    s.forget_user("dave", 4);
    s.put_user("bob", R"({"base":"-","user":{"username":"bob","password":"h2"}})", 5);
    s.stop();
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0007, 0u) << "password hashes are not readable by others";
  store s({.path = path});
  auto snap = s.load();
  ASSERT_TRUE(snap.ok()) << snap.err().message;
  ASSERT_EQ(snap->users.size(), 2u);
  EXPECT_EQ(snap->users.at("bob").find("user")->string_or("password", ""), "h2");
  EXPECT_TRUE(snap->users.at("carl").bool_or("deleted", false));
}

TEST(UserOverlay, ApiChangesSurviveAndConfigEditsWin) {
  std::vector<api::user> config{make_user("alice", "a", true), make_user("bob", "b"), make_user("carl", "c")};
  user_overlay o;
  auto before = by_name(config);
  auto after = before;
  after["newbie"] = make_user("newbie", "n");
  after["bob"].password = "b2";
  after.erase("carl");
  auto changes = o.diff(before, after, config, 100);
  ASSERT_EQ(changes.size(), 3u);  // bob, newbie changed; carl deleted

  // What a restart reads back: the records as the store keeps them.
  std::map<std::string, json::value> rows;
  for (const auto& c : changes) rows[c.name] = *json::parse(c.record);
  user_overlay restored;
  restored.load(rows);
  std::vector<std::string> stale;
  auto eff = by_name(restored.apply(config, &stale));
  EXPECT_TRUE(stale.empty());
  ASSERT_EQ(eff.size(), 3u);
  EXPECT_EQ(eff.at("bob").password, "b2");
  EXPECT_EQ(eff.at("newbie").password, "n");
  EXPECT_FALSE(eff.count("carl")) << "deleted through the API stays deleted";
  EXPECT_EQ(eff.at("alice").password, "a");

  // The operator edits bob in the config file afterwards: the file wins, the entry goes stale.
  config[1].password = "b3";
  eff = by_name(restored.apply(config, &stale));
  EXPECT_EQ(eff.at("bob").password, "b3");
  EXPECT_EQ(stale, std::vector<std::string>{"bob"});
  EXPECT_FALSE(eff.count("carl"));
  EXPECT_EQ(eff.at("newbie").password, "n");
}
