// The validating SAX parser (depth limit, strict UTF-8, no allocation for
// unescaped strings) that every JSON reader of the project runs on, the
// protocol decoder's hot path included. Pure functions: safe on any thread.
#pragma once

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "heartbeat/core/json/utf8.hpp"

namespace heartbeat::json {

enum class parse_status : std::uint8_t { ok, bad_json, bad_utf8, too_deep, aborted };

inline const char* to_string(parse_status s) noexcept {
  switch (s) {
    case parse_status::ok: return "ok";
    case parse_status::bad_json: return "bad_json";
    case parse_status::bad_utf8: return "bad_utf8";
    case parse_status::too_deep: return "too_deep";
    case parse_status::aborted: return "aborted";
  }
  return "unknown";
}

struct parse_limits {
  std::size_t max_depth = 64;  // nesting of objects and arrays
};

namespace detail {

inline int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace detail

// The SAX parser. A Handler provides (each returning bool; false aborts):
//   on_null(), on_bool(bool), on_number(double value, std::string_view raw),
//   on_string(std::string_view), on_key(std::string_view),
//   begin_object(std::size_t offset), end_object(std::size_t offset_after),
//   begin_array(std::size_t offset), end_array(std::size_t offset_after)
// Strings are views into the input when unescaped, else into a scratch buffer
// valid only during the callback. Offsets index into `text`. The two hot spots of
// machine-written JSON (the ingest path) are made fast: strings are scanned eight
// bytes at a time, and short decimals are converted with an exact fast path
// instead of std::from_chars.
template <class Handler>
class sax_parser {
 public:
  sax_parser(std::string_view text, Handler& h, parse_limits limits, std::string& scratch)
      : p_(text.data()),
        begin_(text.data()),
        end_(text.data() + text.size()),
        h_(h),
        limits_(limits),
        scratch_(scratch) {}

  parse_status run() {
    skip_ws();
    parse_status s = parse_value(0);
    if (s != parse_status::ok) return s;
    skip_ws();
    return p_ == end_ ? parse_status::ok : parse_status::bad_json;
  }

 private:
  using status = parse_status;
  const char* p_;
  const char* begin_;
  const char* end_;
  Handler& h_;
  parse_limits limits_;
  std::string& scratch_;

  // Machine-written JSON has no whitespace: one inlined test, the loop out of line.
  [[gnu::always_inline]] void skip_ws() noexcept {
    if (p_<end_&& static_cast<unsigned char>(*p_)> ' ') return;
    skip_ws_loop();
  }
  [[gnu::noinline]] void skip_ws_loop() noexcept {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  static status cb(bool ok) noexcept { return ok ? status::ok : status::aborted; }

  bool literal(const char* word, std::size_t n) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  status parse_value(std::size_t depth) {
    if (p_ >= end_) return status::bad_json;
    switch (*p_) {
      case '{': return parse_object(depth + 1);
      case '[': return parse_array(depth + 1);
      case '"': {
        std::string_view s;
        if (auto st = parse_string(s); st != status::ok) return st;
        return cb(h_.on_string(s));
      }
      case 't': return literal("true", 4) ? cb(h_.on_bool(true)) : status::bad_json;
      case 'f': return literal("false", 5) ? cb(h_.on_bool(false)) : status::bad_json;
      case 'n': return literal("null", 4) ? cb(h_.on_null()) : status::bad_json;
      default: return parse_number();
    }
  }

  status parse_object(std::size_t depth) {
    if (depth > limits_.max_depth) return status::too_deep;
    if (!h_.begin_object(static_cast<std::size_t>(p_ - begin_))) return status::aborted;
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return cb(h_.end_object(static_cast<std::size_t>(p_ - begin_)));
    }
    for (;;) {
      if (p_ >= end_ || *p_ != '"') return status::bad_json;
      std::string_view key;
      if (auto st = parse_string(key); st != status::ok) return st;
      if (!h_.on_key(key)) return status::aborted;
      skip_ws();
      if (p_ >= end_ || *p_ != ':') return status::bad_json;
      ++p_;
      skip_ws();
      if (auto st = parse_value(depth); st != status::ok) return st;
      skip_ws();
      if (p_ >= end_) return status::bad_json;
      if (*p_ == ',') {
        ++p_;
        skip_ws();
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        return cb(h_.end_object(static_cast<std::size_t>(p_ - begin_)));
      }
      return status::bad_json;
    }
  }

  status parse_array(std::size_t depth) {
    if (depth > limits_.max_depth) return status::too_deep;
    if (!h_.begin_array(static_cast<std::size_t>(p_ - begin_))) return status::aborted;
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return cb(h_.end_array(static_cast<std::size_t>(p_ - begin_)));
    }
    for (;;) {
      if (auto st = parse_value(depth); st != status::ok) return st;
      skip_ws();
      if (p_ >= end_) return status::bad_json;
      if (*p_ == ',') {
        ++p_;
        skip_ws();
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        return cb(h_.end_array(static_cast<std::size_t>(p_ - begin_)));
      }
      return status::bad_json;
    }
  }

  // The value of a plain decimal with at most 19 significant digits, a mantissa
  // below 2^53 and at most 22 fraction digits is m / 10^k, which one IEEE division rounds exactly as
  // from_chars would.
  status parse_number() {
    static constexpr double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char* start = p_;
    const char* p = p_;  // a local cursor: the member would be stored on every digit
    const char* end = end_;
    bool neg = false;
    if (p < end && *p == '-') {
      neg = true;
      ++p;
    }
    if (p >= end) return status::bad_json;
    std::uint64_t mant = 0;
    int digits = 0;
    if (*p == '0') {
      ++p;
    } else if (*p >= '1' && *p <= '9') {
      while (p < end && *p >= '0' && *p <= '9') {
        mant = mant * 10 + static_cast<unsigned>(*p - '0');
        ++digits;
        ++p;
      }
    } else {
      return status::bad_json;
    }
    int frac = 0;
    if (p < end && *p == '.') {
      ++p;
      if (p >= end || *p < '0' || *p > '9') return status::bad_json;
      while (p < end && *p >= '0' && *p <= '9') {
        mant = mant * 10 + static_cast<unsigned>(*p - '0');
        ++digits;
        ++frac;
        ++p;
      }
    }
    bool exp = false;
    if (p < end && (*p == 'e' || *p == 'E')) {
      exp = true;
      ++p;
      if (p < end && (*p == '+' || *p == '-')) ++p;
      if (p >= end || *p < '0' || *p > '9') return status::bad_json;
      while (p < end && *p >= '0' && *p <= '9') ++p;
    }
    p_ = p;
    std::string_view raw(start, static_cast<std::size_t>(p_ - start));
    if (!exp && digits <= 19 && mant <= (std::uint64_t{1} << 53) && frac <= 22) {
      double v = static_cast<double>(mant);
      if (frac) v /= pow10[frac];
      return cb(h_.on_number(neg ? -v : v, raw));
    }
    double v = 0;
    auto [ptr, ec] = std::from_chars(start, p_, v);
    if (ec == std::errc::result_out_of_range) {
      v = neg ? -HUGE_VAL : HUGE_VAL;
      const char* e = start;
      while (e < p_ && *e != 'e' && *e != 'E') ++e;
      if (e + 1 < p_ && e[1] == '-') v = 0;
    } else if (ec != std::errc() || ptr != p_) {
      return status::bad_json;
    }
    return cb(h_.on_number(v, raw));
  }

  // Eight bytes at a time: the mask has the high bit set in every byte that is '"',
  // '\\', a control character or non-ASCII. Borrows only flag bytes above a true
  // hit, so the lowest flagged byte (little-endian) is always exact.
  static std::uint64_t special8(const unsigned char* u) noexcept {
    std::uint64_t v;
    std::memcpy(&v, u, 8);
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    std::uint64_t q = v ^ (ones * '"');
    std::uint64_t b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | (v - ones * 0x20) | v) & highs;
  }

  // The common case inline (no escape); escapes continue out of line.
  [[gnu::always_inline]] status parse_string(std::string_view& out) {
    ++p_;
    const char* start = p_;
    auto* u = reinterpret_cast<const unsigned char*>(p_);
    auto* uend = reinterpret_cast<const unsigned char*>(end_);
    while (u < uend) {
      if constexpr (std::endian::native == std::endian::little) {
        if (uend - u >= 8) {
          std::uint64_t m = special8(u);
          if (m == 0) {
            u += 8;
            continue;
          }
          u += std::countr_zero(m) >> 3;
        }
      }
      unsigned char c = *u;
      if (c == '"') {
        out = std::string_view(start, static_cast<std::size_t>(reinterpret_cast<const char*>(u) - start));
        p_ = reinterpret_cast<const char*>(u) + 1;
        return status::ok;
      }
      if (c == '\\') return parse_escaped(out, start, u);
      if (c < 0x20) return status::bad_json;
      if (c < 0x80) {
        ++u;
        continue;
      }
      std::size_t n = detail::utf8_sequence(u, uend);
      if (n == 0) return status::bad_utf8;
      u += n;
    }
    return status::bad_json;
  }

  [[gnu::noinline]] status parse_escaped(std::string_view& out, const char* start, const unsigned char* u) {
    auto* uend = reinterpret_cast<const unsigned char*>(end_);
    if (u >= uend) return status::bad_json;
    scratch_.assign(start, reinterpret_cast<const char*>(u));
    while (u < uend) {
      unsigned char c = *u;
      if (c == '"') {
        out = scratch_;
        p_ = reinterpret_cast<const char*>(u) + 1;
        return status::ok;
      }
      if (c < 0x20) return status::bad_json;
      if (c == '\\') {
        if (u + 1 >= uend) return status::bad_json;
        char e = static_cast<char>(u[1]);
        u += 2;
        switch (e) {
          case '"': scratch_.push_back('"'); break;
          case '\\': scratch_.push_back('\\'); break;
          case '/': scratch_.push_back('/'); break;
          case 'b': scratch_.push_back('\b'); break;
          case 'f': scratch_.push_back('\f'); break;
          case 'n': scratch_.push_back('\n'); break;
          case 'r': scratch_.push_back('\r'); break;
          case 't': scratch_.push_back('\t'); break;
          case 'u': {
            std::uint32_t cp;
            if (!read_hex4(u, uend, cp)) return status::bad_json;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              std::uint32_t lo;
              if (uend - u < 2 || u[0] != '\\' || u[1] != 'u') return status::bad_utf8;
              u += 2;
              if (!read_hex4(u, uend, lo)) return status::bad_json;
              if (lo < 0xDC00 || lo > 0xDFFF) return status::bad_utf8;
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              return status::bad_utf8;
            }
            detail::append_utf8(scratch_, cp);
            break;
          }
          default: return status::bad_json;
        }
        continue;
      }
      if (c < 0x80) {
        scratch_.push_back(static_cast<char>(c));
        ++u;
        continue;
      }
      std::size_t n = detail::utf8_sequence(u, uend);
      if (n == 0) return status::bad_utf8;
      scratch_.append(reinterpret_cast<const char*>(u), n);
      u += n;
    }
    return status::bad_json;
  }

  static bool read_hex4(const unsigned char*& u, const unsigned char* uend, std::uint32_t& cp) noexcept {
    if (uend - u < 4) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      int d = detail::hex_digit(static_cast<char>(u[i]));
      if (d < 0) return false;
      cp = (cp << 4) | static_cast<std::uint32_t>(d);
    }
    u += 4;
    return true;
  }
};

// `scratch` receives unescaped strings; a caller parsing many texts (the protocol
// decoder) passes its own buffer so that its capacity is reused.
template <class Handler>
parse_status parse_sax(std::string_view text, Handler& h, parse_limits limits, std::string& scratch) {
  sax_parser<Handler> p(text, h, limits, scratch);
  return p.run();
}

template <class Handler>
parse_status parse_sax(std::string_view text, Handler& h, parse_limits limits = {}) {
  std::string scratch;
  return parse_sax(text, h, limits, scratch);
}

}  // namespace heartbeat::json
