// Uses heartbeat::core alone: an authenticated PLG encoded and decoded with the built-in policy
// (built-in HMAC-SHA256, no zlib), its data evaluated against a threshold by the alert engine,
// and a /proc/stat text read.
#include <heartbeat/alert/engine.hpp>
#include <heartbeat/core/clock.hpp>
#include <heartbeat/protocol/builtin_policy.hpp>
#include <heartbeat/protocol/codec.hpp>
#include <heartbeat/readers/cpu.hpp>

#include <cstdio>
#include <span>
#include <string>
#include <vector>

int main() {
  using namespace heartbeat;
  using policy = protocol::builtin_policy;
  const std::string key = "a-key-of-sixteen-bytes";
  protocol::plugin_msg plg;
  plg.name = "web01";
  plg.plugin = "cpu_monitor";
  plg.kind = "monitor";
  plg.data_json = R"({"cpu_percent":95.5})";
  protocol::encode_options eo;
  eo.key = key;
  std::string datagram;
  protocol::encode<policy>(plg, datagram, eo);
  protocol::decoder<policy> dec;
  protocol::message m;
  auto keys = [&](std::string_view id) -> const std::string* { return id == "web01" ? &key : nullptr; };
  double now = clock::wall_now();
  auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(datagram.data()), datagram.size());
  if (dec.decode(bytes, now, keys, m) != protocol::reject::none || !m.authenticated) return 1;

  config::diagnostics diag;
  auto rules = alert::compile_rules(
      *json::parse(R"({"thresholds":{"cpu_monitor":{"cpu_percent":{"warning":80,"critical":90}}}})"), diag);
  if (diag.has_errors()) return 2;
  alert::engine engine(std::move(rules));
  std::vector<alert::transition> out;
  engine.evaluate_plugin("web01", m.plg.plugin, {m.plg.leaves.data(), m.plg.leaf_count}, now, out);
  if (out.empty() || out[0].to != alert::level::critical) return 3;

  auto stat = readers::parse_proc_stat("cpu  10 0 10 80 0 0 0 0\nbtime 1700000000\n");
  if (!stat.valid || stat.boot_time != 1700000000) return 4;
  std::printf("%s; boot_time %llu\n", out[0].text.c_str(), static_cast<unsigned long long>(stat.boot_time));
  return 0;
}
