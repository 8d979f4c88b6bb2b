// Specification of hbc's framework: config diagnostics, plugin building,
// subprocesses, the scheduler's info cache / errors / backoff, nagios_runner and
// exec on real programs, and the `serve:` endpoint's routing, auth and CORS.
#include "heartbeat/client.hpp"

#include <gtest/gtest.h>

#include <fstream>

using namespace heartbeat;
using namespace heartbeat::client;

namespace {

template <class T>
T run_co(asio::awaitable<T> a) {
  asio::io_context io;
  std::optional<T> out;
  auto store = [](asio::awaitable<T> a, std::optional<T>& o) -> asio::awaitable<void> {
    o.emplace(co_await std::move(a));
  };
  asio::co_spawn(io, store(std::move(a), out), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  return std::move(*out);
}

json::value yaml(const std::string& text) {
  auto v = config::parse_yaml(text);
  EXPECT_TRUE(v.ok());
  return v.ok() ? *v : json::value();
}

std::string errors_of(const config::diagnostics& d) {
  std::string s;
  for (const auto& i : d.items)
    if (i.is_error) s += i.text() + "\n";
  return s;
}

std::string script(const std::string& name, const std::string& body) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

struct built {
  client_config cfg;
  config::diagnostics diag;
  std::vector<std::unique_ptr<plugin_instance>> plugins;
};

built build(const std::string& text, asio::io_context& io) {
  built b;
  plugin_catalog reg;
  add_builtin_plugins(reg);
  b.cfg = load_client_config(yaml(text), b.diag);
  b.plugins = build_plugins(b.cfg, reg, io.get_executor(), b.diag);
  return b;
}

plugin_instance* find(built& b, std::string_view name) {
  for (auto& p : b.plugins)
    if (p->name == name) return p.get();
  return nullptr;
}

}  // namespace

TEST(ClientConfig, DefaultsAndKeys) {
  config::diagnostics d;
  auto c =
      load_client_config(yaml("hb_port: 50010\ninterval: 10s\nowner: alice\nkey: 0123456789abcdef\n"), d);
  EXPECT_FALSE(d.has_errors()) << errors_of(d);
  EXPECT_EQ(c.hb_port, 50010u);
  EXPECT_EQ(c.interval, 10);
  EXPECT_EQ(c.owner, "alice");
  EXPECT_FALSE(c.name.empty());
  auto dflt = load_client_config(json::value::object(), d);
  EXPECT_EQ(dflt.hb_port, 50003u);
  EXPECT_EQ(dflt.interval, 30);
}

TEST(ClientConfig, BadValuesNameTheirKeyPath) {
  config::diagnostics d;
  load_client_config(yaml("server: example.org\nkey: short\ninterval: 0\nhb_port: 70000\n"
                          "commands:\n  bad: \"echo 'open\"\n  nothing: {timeout: 3}\n"),
                     d);
  std::string e = errors_of(d);
  EXPECT_NE(e.find("server: is not a config key"), std::string::npos) << e;
  EXPECT_NE(e.find("key: must be at least 16 bytes"), std::string::npos) << e;
  EXPECT_NE(e.find("interval: must be at least 1 second"), std::string::npos) << e;
  EXPECT_NE(e.find("hb_port: must be between 1 and 65535"), std::string::npos) << e;
  EXPECT_NE(e.find("commands.bad: unterminated single quote"), std::string::npos) << e;
  EXPECT_NE(e.find("commands.nothing.command: is required"), std::string::npos) << e;
}

TEST(ClientConfig, CommandsMapAndListForms) {
  config::diagnostics d;
  auto c = load_client_config(yaml("commands:\n  restart: /bin/systemctl restart 'my unit'\n"
                                   "  echo: {command: [/bin/echo, hi], timeout: 5, allow_args: true}\n"
                                   "upgrade_command: /usr/local/bin/hb-upgrade --now\n"),
                              d);
  EXPECT_FALSE(d.has_errors()) << errors_of(d);
  EXPECT_EQ(c.commands.at("restart").argv,
            (std::vector<std::string>{"/bin/systemctl", "restart", "my unit"}));
  EXPECT_TRUE(c.commands.at("echo").allow_args);
  EXPECT_EQ(c.commands.at("echo").timeout, 5);
  EXPECT_EQ(c.upgrade_command.size(), 2u);
  auto l = load_client_config(yaml("commands:\n  - {name: up, command: /usr/bin/uptime}\n"), d);
  EXPECT_EQ(l.commands.at("up").argv[0], "/usr/bin/uptime");
}

TEST(BuildPlugins, DefaultsListedDisabledAndTyped) {
  asio::io_context io;
  auto b = build(
      "plugins:\n  cpu_monitor: {interval: 5, per_core: true}\n  memory_monitor: {enabled: false}\n"
      "  my_script: {type: exec, command: /bin/true, interval: 60}\n",
      io);
  EXPECT_FALSE(b.diag.has_errors()) << errors_of(b.diag);
  ASSERT_TRUE(find(b, "cpu_monitor"));
  EXPECT_EQ(find(b, "cpu_monitor")->interval, 5);
  EXPECT_FALSE(find(b, "memory_monitor"));
  ASSERT_TRUE(find(b, "my_script"));
  EXPECT_EQ(find(b, "my_script")->type, "exec");
  ASSERT_TRUE(find(b, "os_info"));  // on by default
  EXPECT_EQ(find(b, "os_info")->kind, plugin_kind::info);
  EXPECT_EQ(find(b, "disk_monitor")->interval, 300);  // the documented default
  EXPECT_FALSE(find(b, "nagios_runner"));             // only when configured
}

TEST(BuildPlugins, ErrorsNameThePluginKeyPath) {
  asio::io_context io;
  auto b = build(
      "plugins:\n  nagios_runner: {interval: 60}\n  ping_monitor: {hosts: ['-f', ok.example]}\n"
      "  bogus: {}\n  cpu_monitor: {interval: 0, per_core: maybe}\n"
      "  x: {type: exec}\n",
      io);
  std::string e = errors_of(b.diag);
  EXPECT_NE(e.find("plugins.nagios_runner.commands: is required"), std::string::npos) << e;
  EXPECT_NE(e.find("plugins.ping_monitor.hosts: \"-f\" is not a host name"), std::string::npos) << e;
  EXPECT_NE(e.find("plugins.bogus: unknown plugin type \"bogus\""), std::string::npos) << e;
  EXPECT_NE(e.find("plugins.cpu_monitor.interval: must be at least 1 second"), std::string::npos) << e;
  EXPECT_NE(e.find("plugins.cpu_monitor.per_core: must be true or false"), std::string::npos) << e;
  EXPECT_NE(e.find("plugins.x.command: is required"), std::string::npos) << e;
}

TEST(Subprocess, ExitCodeOutputAndStderr) {
  auto r = run_co(run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}));
  EXPECT_TRUE(r.spawned);
  EXPECT_EQ(r.rc, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.timed_out);
}

TEST(Subprocess, SignalTimeoutMissingAndTruncation) {
  auto k = run_co(run_process({"/bin/sh", "-c", "kill -9 $$"}));
  EXPECT_EQ(k.rc, -9);
  auto start = std::chrono::steady_clock::now();
  process_options o;
  o.timeout = std::chrono::milliseconds(300);
  // The grandchild `sleep` holds the pipes: the whole process group is killed.
  auto t = run_co(run_process({"/bin/sh", "-c", "sleep 30 & sleep 30"}, o));
  EXPECT_TRUE(t.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  auto m = run_co(run_process({"/nonexistent/program"}));
  EXPECT_FALSE(m.spawned);
  EXPECT_EQ(m.rc, 127);
  process_options small;
  small.max_output = 10;
  auto big = run_co(run_process({"/bin/sh", "-c", "head -c 100000 /dev/zero"}, small));
  EXPECT_EQ(big.rc, 0);
  EXPECT_EQ(big.out.size(), 10u);
  EXPECT_TRUE(big.truncated);
}

namespace {
// A monitor plugin that fails its first `fail_first` collects.
struct flaky {
  static constexpr std::string_view type_name = "flaky";
  static constexpr plugin_kind kind = plugin_kind::monitor;
  static constexpr double default_interval = 1;
  static inline int calls = 0;
  int fail_first = 0;
  explicit flaky(plugin_context& c) { c.options.get("fail_first", fail_first); }
  asio::awaitable<result<void>> initialize() { co_return result<void>{}; }
  asio::awaitable<result<json::value>> collect() {
    if (++calls <= fail_first) co_return make_error("boom", "sensor unplugged");
    co_return json::value::object({{"n", calls}});
  }
  asio::awaitable<void> cleanup() { co_return; }
};
struct counting_info {
  static constexpr std::string_view type_name = "counting_info";
  static constexpr plugin_kind kind = plugin_kind::info;
  static constexpr double default_interval = 0;
  static inline int calls = 0;
  explicit counting_info(plugin_context&) {}
  asio::awaitable<result<void>> initialize() { co_return result<void>{}; }
  asio::awaitable<result<json::value>> collect() { co_return json::value::object({{"n", ++calls}}); }
  asio::awaitable<void> cleanup() { co_return; }
};
struct broken_init {
  static constexpr std::string_view type_name = "broken_init";
  static constexpr plugin_kind kind = plugin_kind::monitor;
  static constexpr double default_interval = 1;
  explicit broken_init(plugin_context&) {}
  asio::awaitable<result<void>> initialize() { co_return make_error("missing", "no such device"); }
  asio::awaitable<result<json::value>> collect() { co_return json::value::object(); }
  asio::awaitable<void> cleanup() { co_return; }
};
static_assert(monitor_plugin<flaky>);
static_assert(info_plugin<counting_info>);
static_assert(!info_plugin<flaky>);
}  // namespace

TEST(Scheduler, ErrorsAreSentInfoIsCachedAndRefreshedOnRequest) {
  plugin_catalog reg;
  reg.add<flaky>();
  reg.add<counting_info>();
  reg.add<broken_init>();
  config::diagnostics d;
  client_config cfg = load_client_config(
      yaml("default_plugins: false\nplugins:\n  flaky: {fail_first: 1, interval: 1}\n  counting_info: {}\n"
           "  broken_init: {}\n"),
      d);
  asio::io_context io;
  auto plugins = build_plugins(cfg, reg, io.get_executor(), d);
  ASSERT_FALSE(d.has_errors()) << errors_of(d);
  std::vector<std::pair<std::string, std::string>> sent;
  scheduler s(io.get_executor(), std::move(plugins),
              [&](plugin_instance& p, const std::string& data) { sent.emplace_back(p.name, data); });
  flaky::calls = 0;
  counting_info::calls = 0;
  asio::co_spawn(io, s.start(), asio::detached);
  io.run_for(std::chrono::milliseconds(300));
  // broken_init was skipped; flaky's first collect failed and was sent as an error;
  // its retry after the failure comes one interval later.
  std::vector<std::string> flaky_data, info_data;
  for (auto& [n, data] : sent) (n == "flaky" ? flaky_data : info_data).push_back(data);
  ASSERT_EQ(flaky_data.size(), 1u);
  EXPECT_EQ(flaky_data[0], R"({"error":"sensor unplugged"})");
  ASSERT_EQ(info_data.size(), 1u);
  EXPECT_EQ(info_data[0], R"({"n":1})");
  for (auto& p : s.plugins()) {
    if (p->name == "broken_init") {
      EXPECT_FALSE(p->active);
    }
  }
  s.request_update();  // cache dropped, collected again, sent at once
  io.restart();
  io.run_for(std::chrono::milliseconds(1200));
  int info_sends = 0;
  bool flaky_ok = false;
  for (auto& [n, data] : sent) {
    if (n == "counting_info") ++info_sends;
    if (n == "flaky" && data == R"({"n":2})") flaky_ok = true;
  }
  EXPECT_EQ(info_sends, 2);
  EXPECT_EQ(counting_info::calls, 2);
  EXPECT_TRUE(flaky_ok);
  asio::co_spawn(io, s.stop(), asio::detached);
  io.restart();
  io.run_for(std::chrono::milliseconds(100));
}

TEST(Scheduler, BackoffDoublesUpToSixteenTimes) {
  EXPECT_EQ(scheduler::retry_delay(10, 1), 10);
  EXPECT_EQ(scheduler::retry_delay(10, 2), 20);
  EXPECT_EQ(scheduler::retry_delay(10, 3), 40);
  EXPECT_EQ(scheduler::retry_delay(10, 5), 160);
  EXPECT_EQ(scheduler::retry_delay(10, 50), 160);
}

TEST(NagiosRunner, RealPluginsSignalKilledScriptAndStderr) {
  std::string killed = script("hb_killed.sh", "echo partial; kill -9 $$");
  std::string errs = script("hb_stderr.sh", "echo 'CRITICAL - disk on fire' >&2; exit 2");
  asio::io_context io;
  auto b = build(
      "default_plugins: false\nplugins:\n  nagios_runner:\n    commands:\n"
      "      - {name: load, command: '/usr/lib/nagios/plugins/check_load -w 1000,1000,1000 -c "
      "2000,2000,2000'}\n"
      "      - {name: killed, command: " +
          killed +
          "}\n"
          "      - {name: stderr_only, command: " +
          errs +
          "}\n"
          "      - {name: slow, command: /bin/sleep 10, timeout: 0.3}\n",
      io);
  ASSERT_FALSE(b.diag.has_errors()) << errors_of(b.diag);
  auto* p = find(b, "nagios_runner");
  ASSERT_TRUE(p);
  auto r = run_co(p->impl->collect());
  ASSERT_TRUE(r.ok());
  const json::value& d = *r;
  EXPECT_EQ(d.find("load_status")->as_string(), "OK");
  EXPECT_TRUE(d.contains("load_load1"));
  EXPECT_EQ(d.find("killed_status")->as_string(), "UNKNOWN");
  EXPECT_EQ(d.find("killed_status_code")->as_number(), 3);
  EXPECT_EQ(d.find("stderr_only_status")->as_string(), "CRITICAL");
  EXPECT_EQ(d.find("stderr_only_output")->as_string(), "CRITICAL - disk on fire");
  EXPECT_EQ(d.find("slow_status")->as_string(), "UNKNOWN");
  EXPECT_NE(d.find("slow_output")->as_string().find("timed out"), std::string::npos);
  EXPECT_FALSE(d.contains("status"));
}

TEST(ExecPlugin, JsonObjectOrError) {
  std::string good = script("hb_good.sh", "echo '{\"queue\": 5, \"ok\": true}'");
  std::string bad = script("hb_bad.sh", "echo not json");
  std::string fails = script("hb_fails.sh", "echo oops >&2; exit 4");
  asio::io_context io;
  auto b = build("default_plugins: false\nplugins:\n  good: {type: exec, command: " + good +
                     "}\n  bad: {type: exec, command: " + bad + "}\n  fails: {type: exec, command: " + fails +
                     "}\n",
                 io);
  ASSERT_FALSE(b.diag.has_errors()) << errors_of(b.diag);
  auto g = run_co(find(b, "good")->impl->collect());
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->find("queue")->as_number(), 5);
  auto x = run_co(find(b, "bad")->impl->collect());
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.err().message, "output is not a JSON object");
  auto f = run_co(find(b, "fails")->impl->collect());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.err().message, "exited with 4: oops");
}

TEST(BuiltinPlugins, CollectOnThisMachine) {
  asio::io_context io;
  auto b = build("plugins:\n  cpu_monitor: {per_core: true}\n", io);
  for (const char* name :
       {"cpu_monitor", "memory_monitor", "disk_monitor", "network_monitor", "os_info", "filesystem_info"}) {
    auto* p = find(b, name);
    ASSERT_TRUE(p) << name;
    ASSERT_TRUE(run_co(p->impl->initialize()).ok()) << name;
    auto r = run_co(p->impl->collect());
    ASSERT_TRUE(r.ok()) << name << ": " << r.err().message;
    EXPECT_TRUE(r->is_object());
  }
  auto cpu = run_co(find(b, "cpu_monitor")->impl->collect());
  EXPECT_TRUE(cpu->contains("cpu_percent"));
  EXPECT_TRUE(cpu->contains("per_core"));
  auto disk = run_co(find(b, "disk_monitor")->impl->collect());
  EXPECT_TRUE(disk->find("partitions")->contains("/"));
}

TEST(Serve, RoutesAuthCorsAndMetrics) {
  asio::io_context io;
  auto b = build("default_plugins: false\nplugins:\n  memory_monitor: {}\n", io);
  b.plugins[0]->latest = R"({"percent":12.5,"swap":{"used":false},"name":"x"})";
  b.plugins[0]->latest_ts = 1000;
  scheduler s(io.get_executor(), std::move(b.plugins), [](plugin_instance&, const std::string&) {});
  serve_config sc;
  sc.enabled = true;
  sc.api_key = "k3y";
  sc.cors_origins = {"https://dash.example"};
  http_endpoint ep(io.get_executor(), sc, s);
  auto req = [](std::string head) { return *parse_http_head(head); };

  EXPECT_EQ(ep.handle(req("GET /memory_monitor HTTP/1.1\r\nHost: x")).status, 401);
  auto ok = ep.handle(req("GET /memory_monitor?apikey=k3y HTTP/1.1\r\nOrigin: https://dash.example"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(
      ok.body,
      R"({"plugin":"memory_monitor","ts":1000,"data":{"percent":12.5,"swap":{"used":false},"name":"x"}})");
  bool cors = false;
  for (auto& [k, v] : ok.headers)
    if (k == "Access-Control-Allow-Origin" && v == "https://dash.example") cors = true;
  EXPECT_TRUE(cors);
  auto other =
      ep.handle(req("GET /memory_monitor HTTP/1.1\r\nX-API-Key: k3y\r\nOrigin: https://evil.example"));
  EXPECT_EQ(other.status, 200);
  for (auto& [k, v] : other.headers) EXPECT_NE(k, "Access-Control-Allow-Origin");
  auto m = ep.handle(req("GET /metrics HTTP/1.1\r\nAuthorization: Bearer k3y"));
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("hbc_plugin_value{plugin=\"memory_monitor\",metric=\"percent\"} 12.5\n"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("metric=\"swap.used\"} 0\n"), std::string::npos);
  EXPECT_EQ(m.body.find("metric=\"name\""), std::string::npos);
  EXPECT_EQ(ep.handle(req("GET /nope HTTP/1.1\r\nX-API-Key: k3y")).status, 404);
  EXPECT_EQ(ep.handle(req("POST /metrics HTTP/1.1\r\nX-API-Key: k3y")).status, 405);
  EXPECT_EQ(ep.handle(req("OPTIONS /metrics HTTP/1.1\r\nOrigin: https://dash.example")).status, 204);
  EXPECT_FALSE(parse_http_head("garbage").has_value());
}

TEST(PingMonitor, LoopbackIsReachable) {
  asio::io_context io;
  auto b = build("default_plugins: false\nplugins:\n  ping_monitor: {hosts: [127.0.0.1], count: 2}\n", io);
  ASSERT_FALSE(b.diag.has_errors()) << errors_of(b.diag);
  auto r = run_co(find(b, "ping_monitor")->impl->collect());
  ASSERT_TRUE(r.ok()) << r.err().message;
  const json::value* h = r->find("hosts")->find("127.0.0.1");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->find("reachable")->as_bool());
  EXPECT_EQ(h->find("packet_loss_percent")->as_number(), 0);
  EXPECT_TRUE(h->contains("rtt_ms"));
}

TEST(ZfsMonitor, FakeZpoolFromFixturesAndMissingZpool) {
  std::string fx = std::string(HB_FIXTURES_DIR) + "/zpool/";
  std::string fake =
      script("hb_zpool.sh", "case \"$1\" in\n  list) cat " + fx + "list_hp.txt;;\n  iostat) cat " + fx +
                                "iostat_hp.txt;;\n  status) cat " + fx + "status.txt;;\nesac");
  asio::io_context io;
  auto b = build("default_plugins: false\nplugins:\n  zfs_monitor: {zpool: " + fake +
                     "}\n  nozfs: {type: zfs_monitor, zpool: /nonexistent/zpool}\n",
                 io);
  ASSERT_FALSE(b.diag.has_errors()) << errors_of(b.diag);
  EXPECT_FALSE(run_co(find(b, "nozfs")->impl->initialize()).ok());
  ASSERT_TRUE(run_co(find(b, "zfs_monitor")->impl->initialize()).ok());
  auto r = run_co(find(b, "zfs_monitor")->impl->collect());
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->find("pool_count")->as_number(), 2);
  const json::value* tank = r->find("pools")->find("tank");
  EXPECT_EQ(tank->find("capacity_percent")->as_number(), 59);
  EXPECT_EQ(tank->find("write_bytes")->as_number(), 1234567);
  EXPECT_EQ(tank->find("checksum_errors")->as_number(), 5);
  EXPECT_EQ(r->find("pools")->find("backup")->find("state")->as_string(), "DEGRADED");
}
