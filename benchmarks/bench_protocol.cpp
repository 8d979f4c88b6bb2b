// Protocol codec micro benchmarks: HTB and 2 KB PLG decode + validate (text and
// zlib), envelope verification, encoders; simdjson On-Demand on the same HTB as the
// baseline the protocol targets are measured against (docs/ARCHITECTURE.md, "JSON parser").
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <string>

#include "heartbeat/protocol/builtin_policy.hpp"
#include "heartbeat/protocol/codec.hpp"
#include "heartbeat/protocol/system_policy.hpp"

namespace {

using namespace heartbeat::protocol;

const std::string htb_example =
    R"({"ID":"HTB","name":"web01","ver":1,"seq":42,"interval":30,"ts":1763840000.25,"rtt":1.8,"agent":"hbc/1.0.0"})";

// A realistic 2 KB plugin body: a disk monitor with a dozen mounts.
std::string plg_2k() {
  std::string data = "{\"partitions\":{";
  const char* mounts[] = {"/",    "/boot", "/boot/efi", "/home", "/var",   "/var/log", "/var/lib/docker",
                          "/srv", "/tmp",  "/opt",      "/data", "/backup"};
  bool first = true;
  int i = 0;
  for (const char* mnt : mounts) {
    if (!first) data += ",";
    first = false;
    ++i;
    data += "\"" + std::string(mnt) + "\":{\"device\":\"/dev/nvme0n1p" + std::to_string(i) +
            "\",\"fstype\":\"ext4\",\"total_gb\":" + std::to_string(100 + i * 37) +
            ".25,\"used_gb\":" + std::to_string(40 + i * 11) +
            ".5,\"free_gb\":" + std::to_string(60 + i * 26) +
            ".75,\"percent\":" + std::to_string(30 + i * 4) + ".2}";
  }
  data += "},\"worst_percent\":78.2,\"count\":12}";
  plugin_msg p;
  p.name = "web01.example.com";
  p.plugin = "disk_monitor";
  p.kind = "monitor";
  p.ts = 1763840001.0;
  p.interval = 300;
  p.data_json = data;
  std::string out;
  encode_options never;
  never.compress_over = 0;
  encode<system_policy>(p, out, never);
  return out;
}

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

const std::string* no_keys(std::string_view) { return nullptr; }

void BM_htb_decode(benchmark::State& st) {
  decoder<system_policy> dec;
  message m;
  for (auto _ : st) {
    reject r = dec.decode(bytes(htb_example), 1763840000, no_keys, m);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(m.htb.seq);
  }
  st.SetLabel(std::to_string(htb_example.size()) + " B");
}
BENCHMARK(BM_htb_decode);

void BM_htb_simdjson_ondemand(benchmark::State& st) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(htb_example);
  std::string name, agent;
  for (auto _ : st) {
    auto doc = parser.iterate(padded);
    auto obj = doc.get_object();
    std::uint64_t seq = 0;
    double interval = 0, ts = 0, rtt = 0;
    int64_t ver = 0;
    for (auto field : obj) {
      std::string_view k = field.unescaped_key();
      if (k == "ID") {
        std::string_view id = field.value().get_string();
        benchmark::DoNotOptimize(id);
      } else if (k == "name") {
        name = std::string_view(field.value().get_string());
      } else if (k == "ver") {
        ver = field.value().get_int64();
      } else if (k == "seq") {
        seq = field.value().get_uint64();
      } else if (k == "interval") {
        interval = field.value().get_double();
      } else if (k == "ts") {
        ts = field.value().get_double();
      } else if (k == "rtt") {
        rtt = field.value().get_double();
      } else if (k == "agent") {
        agent = std::string_view(field.value().get_string());
      }
    }
    benchmark::DoNotOptimize(seq + ver + interval + ts + rtt);
  }
}
BENCHMARK(BM_htb_simdjson_ondemand);

void BM_plg2k_text_decode(benchmark::State& st) {
  std::string d = plg_2k();
  decoder<system_policy> dec;
  message m;
  for (auto _ : st) {
    reject r = dec.decode(bytes(d), 1763840000, no_keys, m);
    benchmark::DoNotOptimize(r);
  }
  st.SetLabel(std::to_string(d.size()) + " B, " + std::to_string(m.plg.leaf_count) + " leaves");
}
BENCHMARK(BM_plg2k_text_decode);

void BM_plg2k_zlib_decode(benchmark::State& st) {
  std::string text = plg_2k();
  std::string d;
  system_policy::deflate(text, d);
  decoder<system_policy> dec;
  message m;
  if (dec.decode(bytes(d), 1763840000, no_keys, m) != reject::none) st.SkipWithError("does not decode");
  for (auto _ : st) {
    reject r = dec.decode(bytes(d), 1763840000, no_keys, m);
    benchmark::DoNotOptimize(r);
  }
  st.SetLabel(std::to_string(d.size()) + " B -> " + std::to_string(text.size()) + " B");
}
BENCHMARK(BM_plg2k_zlib_decode);

template <class Policy>
void BM_envelope_verify(benchmark::State& st) {
  // The HMAC over the HTB body, as the decoder computes it for every authenticated datagram.
  std::string key = "0123456789abcdef-secret";
  for (auto _ : st) {
    auto mac = Policy::hmac(key, htb_example.data(), htb_example.size());
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_envelope_verify<system_policy>)->Name("BM_envelope_verify_openssl");
BENCHMARK(BM_envelope_verify<builtin_policy>)->Name("BM_envelope_verify_builtin");

void BM_htb_authenticated_decode(benchmark::State& st) {
  // Whole decode of an authenticated HTB (envelope, parse, checks). The same
  // datagram repeats, so every run after the first ends in `replay` — after all
  // the work, minus one replay-cache insert.
  std::string key = "0123456789abcdef-secret";
  std::string d;
  heartbeat_msg h{"web01", 1, 42, 30, 1763840000.25, 1.8, "hbc/1.0.0", "", std::nullopt};
  encode<system_policy>(h, d, {"web01", key, compress_threshold, 0});
  auto keys = [&](std::string_view id) -> const std::string* { return id == "web01" ? &key : nullptr; };
  decoder<system_policy> dec;
  message m;
  for (auto _ : st) {
    reject r = dec.decode(bytes(d), 1763840000, keys, m);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_htb_authenticated_decode);

// Encodes `m` over and over, its sequence number one higher each time.
template <class Message>
void encode_loop(benchmark::State& st, Message m) {
  std::string out;
  for (auto _ : st) {
    ++m.seq;
    encode<system_policy>(m, out);
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_htb_encode(benchmark::State& st) {
  encode_loop(st, heartbeat_msg{"web01", 1, 42, 30, 1763840000.25, 1.8, "hbc/1.0.0", "", std::nullopt});
}
BENCHMARK(BM_htb_encode);

void BM_ack_encode(benchmark::State& st) { encode_loop(st, ack_msg{42, 1763840000.25, 1763840000.26, 0}); }
BENCHMARK(BM_ack_encode);

void BM_plg2k_deflate(benchmark::State& st) {
  std::string text = plg_2k();
  std::string out;
  for (auto _ : st) {
    system_policy::deflate(text, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_plg2k_deflate);

}  // namespace

BENCHMARK_MAIN();
