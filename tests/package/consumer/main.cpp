// Uses the installed headers of every part, each reaching its third-party library: JSON (core),
// the system policy's HMAC and deflate (OpenSSL, zlib), YAML (yaml-cpp), an Asio timer, the
// SQLite wrapper, libcurl's global set-up, PBKDF2 password hashing (OpenSSL) and an IANA time
// zone (date-tz).
#include <heartbeat/alert/tz_database.hpp>
#include <heartbeat/api/password.hpp>
#include <heartbeat/config/yaml.hpp>
#include <heartbeat/core/json.hpp>
#include <heartbeat/net/asio.hpp>
#include <heartbeat/notify/detail/curl.hpp>
#include <heartbeat/protocol/system_policy.hpp>
#include <heartbeat/server/detail/sqlite.hpp>

#include <chrono>
#include <cstdio>
#include <string>

int main() {
  using namespace heartbeat;
  auto v = json::parse(R"({"ID":"HTB","name":"web01","seq":42})");
  if (!v || v->string_or("name", "") != "web01") return 1;
  auto mac = protocol::system_policy::hmac("key", "data", 4);
  std::string packed;
  if (!protocol::system_policy::deflate(std::string(600, 'x'), packed) || packed.empty()) return 2;
  auto y = config::parse_yaml("interval: 30\n");
  if (!y || y->find("interval")->as_number() != 30) return 3;
  asio::io_context io;
  asio::steady_timer t(io, std::chrono::milliseconds(1));
  t.async_wait([](const asio::error_code&) {});
  io.run();
  server::detail::sqlite_db db;
  if (!db.open(":memory:", false) || !db.exec("CREATE TABLE t(x)")) return 4;
  notify::detail::curl_init_once();
  auto hash = api::hash_password("secret", 1000);
  if (!hash) return 5;
  auto zone = alert::time_zone::locate("Europe/Berlin");
  if (!zone) return 6;
  std::printf("parsed %s; hmac %02x; %zu bytes deflated; %s\n", v->dump().c_str(), mac[0], packed.size(),
              hash->substr(0, 13).c_str());
  return 0;
}
