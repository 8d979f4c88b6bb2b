// libFuzzer target for what hbc and hbc_mini read from the server (tests/fuzz/run.sh builds it
// with ASan and UBSan): ACK, CMD and UPD datagrams decoded the way each client does (hbc's zlib +
// built-in HMAC policy, hbc_mini's built-in one; the client's own key for its own name), and a
// CMD checked against a command allow-list as both clients do before running anything. Both
// clients must reach the same verdict on every datagram.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "heartbeat/client/config.hpp"
#include "heartbeat/client/detail/policy.hpp"
#include "heartbeat/protocol/builtin_policy.hpp"
#include "heartbeat/protocol/codec.hpp"

namespace {

using namespace heartbeat;
using namespace heartbeat::protocol;

const std::string key = "0123456789abcdef-client";
const std::string* keys(std::string_view id) { return id == "client01" ? &key : nullptr; }
constexpr double now = 1763840000;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

const client::client_config& allow_list() {
  static const client::client_config* c = [] {
    auto* cfg = new client::client_config();
    cfg->name = "client01";
    cfg->key = key;
    cfg->commands["say_hello"].argv = {"/bin/echo", "hello"};
    cfg->commands["restart_nginx"].argv = {"/usr/bin/systemctl", "restart", "nginx"};
    cfg->commands["greet"] = {{"/bin/echo"}, 5, true};
    return cfg;
  }();
  return *c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* hbc = new decoder<client::detail::client_policy>();
  static auto* mini = new decoder<builtin_policy>();
  static auto* a = new message();
  static auto* b = new message();
  std::span<const std::uint8_t> d(data, size);
  reject ra = hbc->decode(d, now, keys, *a);
  reject rb = mini->decode(d, now, keys, *b);
  // hbc_mini has no inflater: it refuses compressed bodies that hbc may take.
  bool compressed = false;
  for (std::size_t i = 0; i + 1 < size; ++i)
    if (data[i] == 0x78) compressed = true;
  check(ra == rb || compressed || ra == reject::replay || rb == reject::replay, "hbc and hbc_mini disagree");
  if (ra != reject::none) return 0;
  if (a->type == msg_type::cmd) {
    auto allowed = client::allow_command(allow_list(), a->cmd);
    if (allowed) {
      const auto& spec = allow_list().commands.at(a->cmd.command);  // throws (crashes) when off the list
      check(allowed->argv.size() == spec.argv.size() + a->cmd.args.size(), "argv is not the spec plus args");
      check(spec.allow_args || a->cmd.args.empty(), "arguments for a command that takes none");
    }
  }
  return 0;
}
