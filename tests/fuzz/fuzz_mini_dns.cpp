// libFuzzer target for hbc_mini's resolver input (tests/fuzz/run.sh builds it with ASan and
// UBSan): DNS answers to a fixed A and AAAA query (id, question, TC bit, compressed names,
// record lengths), and the resolv.conf(5) and hosts(5) text it reads. An answer that passes
// must carry our id and our question.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "heartbeat/mini/resolve.hpp"

namespace {

using namespace heartbeat::mini;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string qa = detail::dns_query_packet(0x1234, "hb.example.com", 1);
  static const std::string q6 = detail::dns_query_packet(0x1234, "hb.example.com", 28);
  for (const std::string* q : {&qa, &q6}) {
    std::uint16_t qtype = q == &qa ? 1 : 28;
    bool ok = false, truncated = false;
    auto addrs = detail::parse_dns_response(data, size, 0x1234, qtype, 50003, ok, *q, &truncated);
    if (ok) {
      check(size >= q->size() && data[0] == 0x12 && data[1] == 0x34, "an answer with another id passes");
      check(detail::same_question(data, size, *q), "an answer to another question passes");
      for (const auto& a : addrs) check(a.is_v4() == (qtype == 1), "an address of the wrong family");
      if (truncated) check(addrs.empty(), "a truncated answer gives addresses");
    } else {
      check(addrs.empty(), "a refused answer gives addresses");
    }
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rc = parse_resolv_conf(text);
  check(!rc.servers.empty(), "no name server, not even the default");
  (void)parse_hosts(text, "hb.example.com", 50003);
  return 0;
}
