// GET /api/0/events at its edges (api/handlers/events.hpp) over an in-memory backend: the query
// it asks the store for, the caller's roles turned into the visible hosts, 400 on bad filters,
// 404 for a host without a role, 405, and 503 without a store.
#include "heartbeat/api/http_server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "fake_backend.hpp"

namespace api = heartbeat::api;
namespace json = heartbeat::json;
namespace server = heartbeat::server;

namespace {

// Answers events() with one canned row and keeps the last query; `store` false: the default
// (no store).
class events_backend : public api::testing::fake_backend {
 public:
  bool store = true;
  std::optional<server::event_query> last;
  void events(const server::event_query& q,
              std::function<void(heartbeat::result<json::value>)> done) override {
    if (!store) return api::backend::events(q, std::move(done));
    last = q;
    json::value list = json::value::array();
    list.push_back(json::value::object({{"id", 1}, {"reason", "rate-limited"}}));
    done(json::value::object({{"events", std::move(list)}, {"count", 1}}));
  }
};

class Events : public ::testing::Test {
 protected:
  void SetUp() override {
    b.hosts["web1"].access.monitors = {"mona"};
    b.hosts["db1"];
    api::settings s;
    s.address = "127.0.0.1";
    s.http_port = 0;
    s.ws_port = 0;
    s.web_dir = HB_SOURCE_DIR "/web";
    std::string hash = *api::hash_password("secret123", 1000);
    s.users = {{"alice", "", "", hash, true, {}}, {"mona", "", "", hash, false, {}}};
    srv = std::make_unique<api::http_server>(io, s, b);
    ASSERT_TRUE(srv->start().ok());
    for (const char* u : {"alice", "mona"}) {
      auto [status, body] = send("POST", "/api/0/auth/login", "",
                                 std::string("{\"username\":\"") + u + "\",\"password\":\"secret123\"}");
      ASSERT_EQ(status, 200) << body;
      token[u] = json::parse(body)->find("token")->as_string();
    }
  }

  std::pair<int, std::string> send(const std::string& method, const std::string& path,
                                   const std::string& user, const std::string& body = "") {
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!user.empty()) request += "Authorization: Bearer " + token[user] + "\r\n";
    if (!body.empty())
      request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n" + body;
    asio::ip::tcp::socket sock(io);
    std::string raw;
    sock.async_connect(
        {asio::ip::make_address("127.0.0.1"), srv->http_port()}, [&](const asio::error_code& ec) {
          ASSERT_FALSE(ec) << ec.message();
          asio::async_write(sock, asio::buffer(request), [&](const asio::error_code&, std::size_t) {
            asio::async_read(sock, asio::dynamic_buffer(raw),
                             [&](const asio::error_code&, std::size_t) { io.stop(); });
          });
        });
    io.run_for(std::chrono::seconds(5));
    io.restart();
    auto end = raw.find("\r\n\r\n");
    int status = raw.size() > 12 ? std::stoi(raw.substr(9, 3)) : 0;
    return {status, end == std::string::npos ? std::string() : raw.substr(end + 4)};
  }

  asio::io_context io;
  events_backend b;
  std::unique_ptr<api::http_server> srv;
  std::map<std::string, std::string> token;
};

}  // namespace

TEST_F(Events, AdminQueriesEverythingWithTheFilters) {
  auto [status, body] = send("GET",
                             "/api/0/"
                             "events?host=db1&metric=cpu_monitor.cpu_percent&kind=alert&result=suppressed&"
                             "since=10&until=20&limit=5000",
                             "alice");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(json::parse(body)->find("events")->as_array()[0].string_or("reason", ""), "rate-limited");
  ASSERT_TRUE(b.last);
  EXPECT_EQ(b.last->host, "db1");
  EXPECT_EQ(b.last->metric, "cpu_monitor.cpu_percent");
  EXPECT_EQ(b.last->kind, "alert");
  EXPECT_EQ(b.last->result, "suppressed");
  EXPECT_EQ(b.last->since, 10);
  EXPECT_EQ(b.last->until, 20);
  EXPECT_EQ(b.last->limit, 1000u);  // capped
  EXPECT_EQ(b.last->visible, nullptr);
  EXPECT_EQ(send("GET", "/api/0/events", "alice").first, 200);
  EXPECT_EQ(b.last->limit, 100u);
}

TEST_F(Events, OthersSeeTheirHostsOnly) {
  EXPECT_EQ(send("GET", "/api/0/events", "mona").first, 200);
  ASSERT_TRUE(b.last && b.last->visible);
  EXPECT_EQ(*b.last->visible, (std::unordered_set<std::string>{"web1"}));
  auto [status, body] = send("GET", "/api/0/events?host=db1", "mona");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body, "{\"error\":\"Host 'db1' not found\"}");
  EXPECT_EQ(send("GET", "/api/0/events?host=web1", "mona").first, 200);
  EXPECT_EQ(send("GET", "/api/0/events", "").first, 401);
}

TEST_F(Events, BadFiltersMethodsAndNoStore) {
  EXPECT_EQ(
      send("GET", "/api/0/events?kind=weather", "alice").second,
      "{\"error\":\"kind must be one of alert, reminder, acknowledged, host_down, host_up, host_stopped, "
      "channel_failure, digest, partition\"}");
  EXPECT_EQ(send("GET", "/api/0/events?result=maybe", "alice").first, 400);
  EXPECT_EQ(send("GET", "/api/0/events?limit=0", "alice").second,
            "{\"error\":\"limit must be a positive integer\"}");
  EXPECT_EQ(send("GET", "/api/0/events?since=yesterday", "alice").second,
            "{\"error\":\"since must be a Unix time in seconds\"}");
  EXPECT_EQ(send("GET", "/api/0/events?since=20&until=10", "alice").second,
            "{\"error\":\"since must not be after until\"}");
  EXPECT_EQ(send("POST", "/api/0/events", "alice", "{}").first, 405);
  b.store = false;
  auto [status, body] = send("GET", "/api/0/events", "alice");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body, "{\"error\":\"the event log needs the store (state_db)\"}");
}
