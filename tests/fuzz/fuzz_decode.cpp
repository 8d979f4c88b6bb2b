// libFuzzer target for the protocol decoder (tests/fuzz/run.sh builds it with ASan and
// UBSan). Beyond "no crash, no leak" it checks four invariants and aborts when one
// breaks: the HTB fast path gives the same verdict and values as the generic parser;
// the ingest tokenizer agrees event for event with json::parse_sax; both
// policies give the same verdict on text bodies; and every accepted message
// re-encodes into a datagram that decodes again.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "heartbeat/protocol/builtin_policy.hpp"
#include "heartbeat/protocol/codec.hpp"
#include "heartbeat/protocol/system_policy.hpp"

namespace {

using namespace heartbeat;
using namespace heartbeat::protocol;

const std::string key = "0123456789abcdef-fuzz";
const std::string* keys(std::string_view id) { return id == "web01" ? &key : nullptr; }
constexpr double now = 1763840000;

// Records every SAX event as text, numbers bit for bit.
struct recorder {
  std::string log;
  std::size_t events = 0;
  bool note(char c, std::string_view s = {}) {
    log.push_back(c);
    log.append(s);
    log.push_back('\0');
    return ++events < 100000;
  }
  bool on_null() { return note('n'); }
  bool on_bool(bool b) { return note(b ? 't' : 'f'); }
  bool on_number(double v, std::string_view raw) {
    char bits[sizeof v];
    std::memcpy(bits, &v, sizeof v);
    return note('#', std::string_view(bits, sizeof bits)) && note('r', raw);
  }
  bool on_string(std::string_view s) { return note('s', s); }
  bool on_key(std::string_view s) { return note('k', s); }
  bool begin_object(std::size_t o) { return note('{', std::to_string(o)); }
  bool end_object(std::size_t o) { return note('}', std::to_string(o)); }
  bool begin_array(std::size_t o) { return note('[', std::to_string(o)); }
  bool end_array(std::size_t o) { return note(']', std::to_string(o)); }
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

template <class M>
void reencode(const M& msg, message& m2) {
  std::string out;
  encode<system_policy>(msg, out);
  decoder<system_policy> again;
  reject r = again.decode({reinterpret_cast<const std::uint8_t*>(out.data()), out.size()}, now, keys, m2);
  check(r == reject::none, "re-encoded message does not decode");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static decoder<system_policy>* sys = new decoder<system_policy>();
  static decoder<builtin_policy>* mini = new decoder<builtin_policy>();
  static message* m = new message();
  static message* m2 = new message();
  static decoder<system_policy>* generic = [] {
    auto* d = new decoder<system_policy>();
    d->set_fast_paths(false);
    return d;
  }();
  static message* m3 = new message();

  std::span<const std::uint8_t> d(data, size);
  reject r = sys->decode(d, now, keys, *m);
  check(std::strcmp(to_string(r), "unknown") != 0, "reject without a name");

  // The HTB fast path and the generic parser give the same verdict and values.
  reject rg = generic->decode(d, now, keys, *m3);
  check(rg == r, "fast path and generic parser disagree");
  if (r == reject::none && m->type == msg_type::htb) {
    const auto &a = m->htb, &b = m3->htb;
    check(a.name == b.name && a.ver == b.ver && a.seq == b.seq && a.interval == b.interval && a.ts == b.ts &&
              a.rtt == b.rtt && a.agent == b.agent && a.owner == b.owner && a.boot_time == b.boot_time,
          "fast path and generic parser decode different values");
  }

  // Differential tokenizer check on the raw bytes.
  std::string_view text(reinterpret_cast<const char*>(data), size);
  recorder a, b;
  std::string scratch;
  json::parse_limits limits;
  auto sa = json::parse_sax(text, a, limits);
  auto sb = detail::fast_parse(text, b, limits, scratch);
  check(sa == sb, "tokenizers disagree on status");
  check(a.log == b.log, "tokenizers disagree on events");

  if (size > 0 && data[0] == '{') {
    // Text bodies: the policies only differ in inflate and HMAC implementation.
    reject r2 = mini->decode(d, now, keys, *m);
    check(r2 == r || r2 == reject::replay || r == reject::replay, "policies disagree");
  }

  if (r == reject::none && !m->authenticated) {
    switch (m->type) {
      case msg_type::htb: reencode(m->htb, *m2); break;
      case msg_type::plg:
        reencode(m->plg, *m2);
        check(m2->plg.leaf_count == m->plg.leaf_count, "leaf count changed");
        break;
      case msg_type::msg: reencode(m->msg, *m2); break;
      case msg_type::res: reencode(m->res, *m2); break;
      case msg_type::ack: reencode(m->ack, *m2); break;
      case msg_type::err: reencode(m->err, *m2); break;
      default: break;
    }
  }
  return 0;
}
