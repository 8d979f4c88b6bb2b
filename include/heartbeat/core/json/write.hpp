// JSON text output: string literals, numbers (short form, round-trip exact)
// and `object_writer`, which writes an object member by member without a DOM.
// Pure functions: safe on any thread.
#pragma once

#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

namespace heartbeat::json {

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

}  // namespace heartbeat::json
