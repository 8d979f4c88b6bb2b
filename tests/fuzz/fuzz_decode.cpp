// libFuzzer target for the protocol decoder (tests/fuzz/run.sh builds it with ASan and
// UBSan). Beyond "no crash, no leak" it checks four invariants and aborts when one
// breaks: the HTB fast path gives the same verdict and values as the generic parser;
// json::parse_sax reports every number bit for bit as std::from_chars reads its raw
// text, and text it accepts survives the DOM round trip; both policies give the
// same verdict on text bodies; and every accepted message re-encodes into a
// datagram that decodes again.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../unit/json_reference.hpp"
#include "heartbeat/protocol/builtin_policy.hpp"
#include "heartbeat/protocol/codec.hpp"
#include "heartbeat/protocol/system_policy.hpp"

namespace {

using namespace heartbeat;
using namespace heartbeat::protocol;

const std::string key = "0123456789abcdef-fuzz";
const std::string* keys(std::string_view id) { return id == "web01" ? &key : nullptr; }
constexpr double now = 1763840000;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

using hbtest::reference_number;

// Checks every number event against the reference; other events are accepted.
struct number_checker {
  std::size_t events = 0;
  bool ok() { return ++events < 100000; }
  bool on_null() { return ok(); }
  bool on_bool(bool) { return ok(); }
  bool on_number(double v, std::string_view raw) {
    double want = reference_number(raw);
    check(std::memcmp(&v, &want, sizeof v) == 0, "number differs from from_chars");
    return ok();
  }
  bool on_string(std::string_view) { return ok(); }
  bool on_key(std::string_view) { return ok(); }
  bool begin_object(std::size_t) { return ok(); }
  bool end_object(std::size_t) { return ok(); }
  bool begin_array(std::size_t) { return ok(); }
  bool end_array(std::size_t) { return ok(); }
};

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

  // Tokenizer checks on the raw bytes: exact numbers, and the DOM round trip.
  std::string_view text(reinterpret_cast<const char*>(data), size);
  number_checker nc;
  if (json::parse_sax(text, nc) == json::parse_status::ok) {
    auto dom = json::parse(text);
    check(dom.ok(), "SAX accepts what the DOM rejects");
    auto again = json::parse(dom.value().dump());
    check(again.ok() && again.value().dump() == dom.value().dump(), "DOM round trip changes the text");
  }

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
