// The heartbeat fast path: an HTB in the exact shape our encoders write (keys in
// encoder order, plain ASCII strings, plain decimals) is read with fixed-position key
// matches instead of the generic tokenizer + handler. Anything else — another key
// order, whitespace, escapes, non-ASCII, exponents, unknown keys, or any value the
// checks would refuse — returns false and the generic path decides, so both paths
// accept exactly the same messages with the same values (the fuzz target checks
// it). One decoder, one thread; dependency-free.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "heartbeat/protocol/detail/fields.hpp"
#include "heartbeat/protocol/messages.hpp"

namespace heartbeat::protocol::detail {

class htb_scanner {
 public:
  explicit htb_scanner(std::string_view text) noexcept : p_(text.data()), end_(text.data() + text.size()) {}

  // Fills out.htb when `text` is a valid canonical HTB; `ts` gets its ts.
  bool run(message& out, std::optional<double>& ts) {
    static constexpr char head[] = "{\"ID\":\"HTB\",\"name\":\"";
    if (!lit(head)) return false;
    std::string_view name, agent, owner;
    double ver_v, seq_v, interval, t = 0, rtt = 0, boot = 0;
    std::string_view ver_raw, seq_raw;
    if (!str(name) || !lit(",\"ver\":") || !num(ver_v, ver_raw) || !lit(",\"seq\":") ||
        !num(seq_v, seq_raw) || !lit(",\"interval\":") || !num(interval, ver_raw_unused_))
      return false;
    bool has_ts = lit(",\"ts\":");
    if (has_ts && !num(t, ver_raw_unused_)) return false;
    bool has_rtt = lit(",\"rtt\":");
    if (has_rtt && !num(rtt, ver_raw_unused_)) return false;
    bool has_agent = lit(",\"agent\":\"");
    if (has_agent && !str(agent)) return false;
    bool has_owner = lit(",\"owner\":\"");
    if (has_owner && !str(owner)) return false;
    bool has_boot = lit(",\"boot_time\":");
    if (has_boot && !num(boot, ver_raw_unused_)) return false;
    if (!lit("}") || p_ != end_) return false;
    // The generic path's checks; any failure is left to it (it names the reason).
    int ver;
    std::uint64_t seq;
    if (!as_integer(ver_v, ver_raw, ver) || !as_integer(seq_v, seq_raw, seq)) return false;
    if (!(interval > 0) || rtt < 0 || agent.size() > max_short_string || owner.size() > max_short_string ||
        !valid_host_name(name))
      return false;
    heartbeat_msg& h = out.htb;
    out.type = msg_type::htb;
    assign(h.name, name);
    h.ver = ver;
    h.seq = seq;
    h.interval = interval;
    h.ts = has_ts ? std::optional<double>(t) : std::nullopt;
    h.rtt = has_rtt ? std::optional<double>(rtt) : std::nullopt;
    if (has_agent)
      assign(h.agent, agent);
    else
      h.agent.clear();
    if (has_owner)
      assign(h.owner, owner);
    else
      h.owner.clear();
    h.boot_time = has_boot ? std::optional<double>(boot) : std::nullopt;
    ts = h.ts;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
  std::string_view ver_raw_unused_;

  template <std::size_t N>
  bool lit(const char (&s)[N]) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < N - 1 || std::memcmp(p_, s, N - 1) != 0) return false;
    p_ += N - 1;
    return true;
  }

  // After the opening quote: printable ASCII without '"' or '\\' up to the closing quote.
  bool str(std::string_view& out) noexcept {
    const char* s = p_;
    for (const char* p = p_; p < end_; ++p) {
      unsigned char c = static_cast<unsigned char>(*p);
      if (c == '"') {
        out = std::string_view(s, static_cast<std::size_t>(p - s));
        p_ = p + 1;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
    }
    return false;
  }

  // A JSON number without exponent whose value the exact fast path gives (as json::parse_sax).
  bool num(double& v, std::string_view& raw) noexcept {
    static constexpr double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char* p = p_;
    const char* start = p;
    bool neg = p < end_ && *p == '-';
    if (neg) ++p;
    if (p >= end_) return false;
    std::uint64_t mant = 0;
    int digits = 0, frac = 0;
    if (*p == '0') {
      ++p;
    } else if (*p >= '1' && *p <= '9') {
      while (p < end_ && *p >= '0' && *p <= '9') {
        mant = mant * 10 + static_cast<unsigned>(*p++ - '0');
        ++digits;
      }
    } else {
      return false;
    }
    if (p < end_ && *p == '.') {
      ++p;
      if (p >= end_ || *p < '0' || *p > '9') return false;
      while (p < end_ && *p >= '0' && *p <= '9') {
        mant = mant * 10 + static_cast<unsigned>(*p++ - '0');
        ++digits;
        ++frac;
      }
    }
    if (p < end_ && (*p == 'e' || *p == 'E')) return false;
    if (digits > 19 || mant > (std::uint64_t{1} << 53) || frac > 22) return false;
    v = static_cast<double>(mant);
    if (frac) v /= pow10[frac];
    if (neg) v = -v;
    raw = std::string_view(start, static_cast<std::size_t>(p - start));
    p_ = p;
    return true;
  }
};

}  // namespace heartbeat::protocol::detail
