// libFuzzer target for what the HTTP API parses from a request (tests/fuzz/run.sh builds it
// with ASan and UBSan): the JSON DOM with the limits of api::context::parse_body (depth 16),
// whose accepted text must survive a dump and parse, and the header checks of api/guard.hpp
// (Host, Content-Type, trusted-proxy blocks) on the same bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "heartbeat/api/guard.hpp"
#include "heartbeat/core/json.hpp"

namespace {

using namespace heartbeat;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

const api::http_guard& guard() {
  static const api::http_guard* g = [] {
    api::http_guard_config c;
    c.http_hosts = {"hb.example.org"};
    c.trusted_proxies = {"10.0.0.0/8", "2001:db8::/32"};
    return new api::http_guard(c, "127.0.0.1");
  }();
  return *g;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = json::parse(text, json::parse_limits{16});
  if (v) {
    std::string once = v->dump();
    auto again = json::parse(once, json::parse_limits{16});
    check(again.ok(), "a dumped body does not parse again");
    check(again->dump() == once, "the DOM round trip changes the text");
    if (v->is_object()) {
      (void)v->find("username");
      (void)v->string_or("password", "");
    }
  }
  const api::http_guard& g = guard();
  bool host_ok = g.host_allowed(text);
  (void)api::http_guard::json_content_type(text);
  (void)g.trusted_proxy(text);
  (void)api::net_block::parse(text);
  auto refused = g.check("POST", text, text, text, size, [] { return false; });
  check(!host_ok || !refused || refused->status != 421, "an allowed Host is refused as misdirected");
  return 0;
}
