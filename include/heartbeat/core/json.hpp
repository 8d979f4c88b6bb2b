// JSON for the whole project without third-party code: a validating SAX parser
// (depth limit, strict UTF-8, no allocation for unescaped strings), a small
// ordered DOM (`json::value`) and a writer. hbc_mini, hbc and hbd share it.
// Pure functions and value types: safe on any thread.
#pragma once

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/core/result.hpp"

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

// Length of the valid UTF-8 sequence starting at p (1..4), or 0 if invalid
// (overlongs, surrogates and code points above U+10FFFF are invalid).
inline std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end) noexcept {
  unsigned c = p[0];
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned min;
  unsigned cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
    cp = c & 0x07;
  } else
    return 0;
  if (static_cast<std::size_t>(end - p) < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

inline int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace detail

// Validates that `s` is well-formed UTF-8.
inline bool valid_utf8(std::string_view s) noexcept {
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    std::size_t n = detail::utf8_sequence(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

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

enum class kind : std::uint8_t { null, boolean, number, string, array, object };

inline const char* to_string(kind k) noexcept {
  switch (k) {
    case kind::null: return "null";
    case kind::boolean: return "boolean";
    case kind::number: return "number";
    case kind::string: return "string";
    case kind::array: return "array";
    case kind::object: return "object";
  }
  return "unknown";
}

// Appends `s` as a JSON string literal (quotes included) to `out`.
inline void write_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

// Appends a number: integers without a fraction, others in shortest
// round-trip form; NaN and infinities (not JSON) become null.
inline void write_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  std::to_chars_result r;
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
    return;
  }
  // At most 6 decimals (timestamps, most measurements): integer arithmetic, about
  // 5x faster than shortest-form to_chars. The text reads back as the same double:
  // m / 1e6 with m < 2^53 is correctly rounded, like the parse of "I.FFFFFF".
  if (std::fabs(v) < 9e9) {
    const double m = std::nearbyint(v * 1e6);
    if (m / 1e6 == v) {
      long long u = static_cast<long long>(std::fabs(m));
      char* p = buf;
      if (v < 0) *p++ = '-';
      p = std::to_chars(p, buf + sizeof buf, u / 1000000).ptr;
      int frac = static_cast<int>(u % 1000000), digits = 6;
      while (frac % 10 == 0) {  // frac != 0: v is not an integer
        frac /= 10;
        --digits;
      }
      *p++ = '.';
      for (int i = digits - 1; i >= 0; --i, frac /= 10) p[i] = static_cast<char>('0' + frac % 10);
      out.append(buf, static_cast<std::size_t>(p + digits - buf));
      return;
    }
  }
  r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// Writes one JSON object straight into a string, member by member (no DOM):
// for documents rendered often and large, such as 100,000 /api/0/hosts entries.
// Keys are literals that need no escaping.
class object_writer {
 public:
  explicit object_writer(std::string& out) : out_(out) { out_.push_back('{'); }
  object_writer(const object_writer&) = delete;
  object_writer& operator=(const object_writer&) = delete;
  ~object_writer() { out_.push_back('}'); }

  object_writer& number(std::string_view k, double v) {
    key(k);
    write_number(out_, v);
    return *this;
  }
  object_writer& number(std::string_view k, const std::optional<double>& v) {
    key(k);
    if (v)
      write_number(out_, *v);
    else
      out_ += "null";
    return *this;
  }
  object_writer& string(std::string_view k, std::string_view v) {
    key(k);
    write_string(out_, v);
    return *this;
  }
  object_writer& boolean(std::string_view k, bool v) {
    key(k);
    out_ += v ? "true" : "false";
    return *this;
  }
  // A list of strings from any range of string-like elements (or pair keys via `pick`).
  template <class Range, class Pick>
  object_writer& strings(std::string_view k, const Range& r, Pick&& pick) {
    key(k);
    out_.push_back('[');
    bool first = true;
    for (const auto& e : r) {
      if (!first) out_.push_back(',');
      first = false;
      write_string(out_, pick(e));
    }
    out_.push_back(']');
    return *this;
  }
  template <class Range>
  object_writer& strings(std::string_view k, const Range& r) {
    return strings(k, r, [](const auto& e) -> std::string_view { return e; });
  }
  // A member whose value `f(out)` writes itself (arrays of objects, nested objects).
  template <class F>
  object_writer& raw(std::string_view k, F&& f) {
    key(k);
    f(out_);
    return *this;
  }

 private:
  void key(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    out_.append(k);
    out_.append("\":", 2);
  }
  std::string& out_;
  bool first_ = true;
};

// An ordered JSON value (objects keep insertion order, as JSON text did).
class value {
 public:
  using array_t = std::vector<value>;
  using member = std::pair<std::string, value>;
  using object_t = std::vector<member>;

  value() noexcept = default;
  value(std::nullptr_t) noexcept {}
  value(bool b) noexcept : kind_(kind::boolean), b_(b) {}
  value(double d) noexcept : kind_(kind::number), n_(d) {}
  value(int i) noexcept : kind_(kind::number), n_(i) {}
  value(long i) noexcept : kind_(kind::number), n_(static_cast<double>(i)) {}
  value(long long i) noexcept : kind_(kind::number), n_(static_cast<double>(i)) {}
  value(unsigned i) noexcept : kind_(kind::number), n_(i) {}
  value(unsigned long i) noexcept : kind_(kind::number), n_(static_cast<double>(i)) {}
  value(unsigned long long i) noexcept : kind_(kind::number), n_(static_cast<double>(i)) {}
  value(std::string s) : kind_(kind::string), s_(std::move(s)) {}
  value(std::string_view s) : kind_(kind::string), s_(s) {}
  value(const char* s) : kind_(kind::string), s_(s) {}
  value(array_t a) : kind_(kind::array), a_(std::make_unique<array_t>(std::move(a))) {}
  value(object_t o) : kind_(kind::object), o_(std::make_unique<object_t>(std::move(o))) {}

  static value array() { return value(array_t{}); }
  static value object() { return value(object_t{}); }
  static value object(std::initializer_list<member> members) { return value(object_t(members)); }

  value(const value& o) { copy_from(o); }
  value(value&&) noexcept = default;
  value& operator=(const value& o) {
    if (this != &o) {
      value tmp(o);
      *this = std::move(tmp);
    }
    return *this;
  }
  value& operator=(value&&) noexcept = default;

  kind type() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == kind::null; }
  bool is_bool() const noexcept { return kind_ == kind::boolean; }
  bool is_number() const noexcept { return kind_ == kind::number; }
  bool is_string() const noexcept { return kind_ == kind::string; }
  bool is_array() const noexcept { return kind_ == kind::array; }
  bool is_object() const noexcept { return kind_ == kind::object; }

  // Accessors: callers check the kind first (wrong kind returns a neutral value).
  bool as_bool() const noexcept { return kind_ == kind::boolean && b_; }
  double as_number() const noexcept { return kind_ == kind::number ? n_ : 0.0; }
  const std::string& as_string() const noexcept { return s_; }
  const array_t& as_array() const noexcept { return a_ ? *a_ : empty_array(); }
  const object_t& as_object() const noexcept { return o_ ? *o_ : empty_object(); }
  array_t& as_array() {
    ensure(kind::array);
    return *a_;
  }
  object_t& as_object() {
    ensure(kind::object);
    return *o_;
  }

  std::size_t size() const noexcept {
    if (kind_ == kind::array) return a_->size();
    if (kind_ == kind::object) return o_->size();
    return 0;
  }

  // Object member lookup; nullptr when absent or not an object.
  const value* find(std::string_view key) const noexcept {
    if (kind_ != kind::object) return nullptr;
    for (const auto& [k, v] : *o_)
      if (k == key) return &v;
    return nullptr;
  }
  value* find(std::string_view key) noexcept {
    return const_cast<value*>(static_cast<const value*>(this)->find(key));
  }
  bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }

  // Object member access, inserting null when absent (makes a null an object).
  value& operator[](std::string_view key) {
    ensure(kind::object);
    if (value* v = find(key)) return *v;
    o_->emplace_back(std::string(key), value());
    return o_->back().second;
  }
  // Sets or replaces a member.
  value& set(std::string_view key, value v) { return (*this)[key] = std::move(v); }
  bool erase(std::string_view key) {
    if (kind_ != kind::object) return false;
    for (auto it = o_->begin(); it != o_->end(); ++it)
      if (it->first == key) {
        o_->erase(it);
        return true;
      }
    return false;
  }
  void push_back(value v) {
    ensure(kind::array);
    a_->push_back(std::move(v));
  }

  // Convenience getters with defaults, for config-like reading.
  double number_or(std::string_view key, double dflt) const noexcept {
    const value* v = find(key);
    return v && v->is_number() ? v->n_ : dflt;
  }
  std::string string_or(std::string_view key, std::string_view dflt) const {
    const value* v = find(key);
    return v && v->is_string() ? v->s_ : std::string(dflt);
  }
  bool bool_or(std::string_view key, bool dflt) const noexcept {
    const value* v = find(key);
    return v && v->is_bool() ? v->b_ : dflt;
  }

  friend bool operator==(const value& a, const value& b) noexcept {
    if (a.kind_ != b.kind_) return false;
    switch (a.kind_) {
      case kind::null: return true;
      case kind::boolean: return a.b_ == b.b_;
      case kind::number: return a.n_ == b.n_;
      case kind::string: return a.s_ == b.s_;
      case kind::array: return *a.a_ == *b.a_;
      case kind::object: return *a.o_ == *b.o_;
    }
    return false;
  }

  void dump_to(std::string& out) const {
    switch (kind_) {
      case kind::null: out += "null"; break;
      case kind::boolean: out += b_ ? "true" : "false"; break;
      case kind::number: write_number(out, n_); break;
      case kind::string: write_string(out, s_); break;
      case kind::array: {
        out.push_back('[');
        bool first = true;
        for (const auto& v : *a_) {
          if (!first) out.push_back(',');
          first = false;
          v.dump_to(out);
        }
        out.push_back(']');
        break;
      }
      case kind::object: {
        out.push_back('{');
        bool first = true;
        for (const auto& [k, v] : *o_) {
          if (!first) out.push_back(',');
          first = false;
          write_string(out, k);
          out.push_back(':');
          v.dump_to(out);
        }
        out.push_back('}');
        break;
      }
    }
  }
  std::string dump() const {
    std::string out;
    dump_to(out);
    return out;
  }

 private:
  kind kind_ = kind::null;
  bool b_ = false;
  double n_ = 0;
  std::string s_;
  std::unique_ptr<array_t> a_;
  std::unique_ptr<object_t> o_;

  static const array_t& empty_array() noexcept {
    static const array_t e;
    return e;
  }
  static const object_t& empty_object() noexcept {
    static const object_t e;
    return e;
  }
  void ensure(kind k) {
    if (kind_ == k) return;
    *this = (k == kind::array) ? value(array_t{}) : value(object_t{});
  }
  void copy_from(const value& o) {
    kind_ = o.kind_;
    b_ = o.b_;
    n_ = o.n_;
    s_ = o.s_;
    if (o.a_) a_ = std::make_unique<array_t>(*o.a_);
    if (o.o_) o_ = std::make_unique<object_t>(*o.o_);
  }
};

namespace detail {

// Builds a json::value from SAX events.
class dom_builder {
 public:
  value root;

  bool on_null() { return put(value()); }
  bool on_bool(bool b) { return put(value(b)); }
  bool on_number(double d, std::string_view) { return put(value(d)); }
  bool on_string(std::string_view s) { return put(value(s)); }
  bool on_key(std::string_view k) {
    key_.assign(k);
    return true;
  }
  bool begin_object(std::size_t) {
    value* v = put_ref(value::object());
    stack_.push_back(v);
    return true;
  }
  bool end_object(std::size_t) {
    stack_.pop_back();
    return true;
  }
  bool begin_array(std::size_t) {
    value* v = put_ref(value::array());
    stack_.push_back(v);
    return true;
  }
  bool end_array(std::size_t) {
    stack_.pop_back();
    return true;
  }

 private:
  std::vector<value*> stack_;
  std::string key_;

  bool put(value v) {
    put_ref(std::move(v));
    return true;
  }
  value* put_ref(value v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    value* top = stack_.back();
    if (top->is_array()) {
      top->as_array().push_back(std::move(v));
      return &top->as_array().back();
    }
    // Duplicate keys are kept (lookups see the first): checking would make
    // hostile input with many keys quadratic.
    top->as_object().emplace_back(key_, std::move(v));
    return &top->as_object().back().second;
  }
};

}  // namespace detail

// Parses JSON text into a value. Errors carry a stable code (bad_json, bad_utf8, too_deep).
inline result<value> parse(std::string_view text, parse_limits limits = {}) {
  detail::dom_builder b;
  parse_status s = parse_sax(text, b, limits);
  if (s != parse_status::ok) {
    std::string code = to_string(s);
    return make_error(code, std::string("invalid JSON (") + code + ")");
  }
  return std::move(b.root);
}

}  // namespace heartbeat::json
