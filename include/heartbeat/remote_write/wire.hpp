// The wire format of Prometheus remote write 1.0: a protobuf WriteRequest written by hand (four
// messages, five fields; docs/ARCHITECTURE.md has the measurement behind not using libprotobuf),
// compressed in snappy's block format (libsnappy). Pure; the sender thread uses it.
//
//   WriteRequest { repeated TimeSeries timeseries = 1; }
//   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//   Label        { string name = 1; string value = 2; }
//   Sample       { double value = 1; int64 timestamp = 2; }   // timestamp: Unix milliseconds
#pragma once

#include <snappy.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace heartbeat::remote_write {

struct label {
  std::string_view name;
  std::string_view value;
};

namespace wire {

inline std::size_t varint_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline char* put_varint(char* p, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

inline char* put_bytes(char* p, char tag, std::string_view s) noexcept {
  *p++ = tag;
  p = put_varint(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// Field tags: (number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited).
inline constexpr char tag_timeseries = 0x0a;
inline constexpr char tag_labels = 0x0a;
inline constexpr char tag_samples = 0x12;
inline constexpr char tag_name = 0x0a;
inline constexpr char tag_value = 0x12;
inline constexpr char tag_sample_value = 0x09;
inline constexpr char tag_sample_ts = 0x10;

}  // namespace wire

// Unix seconds to the protocol's milliseconds (a timestamp beyond the year 300,000 or not a number
// is pinned to the range, never undefined).
inline std::int64_t to_millis(double ts) noexcept {
  if (!(ts > -1e13 && ts < 1e13)) return ts > 0 ? std::int64_t{10000000000000000} : 0;
  return static_cast<std::int64_t>(std::llround(ts * 1000.0));
}

// A WriteRequest being built, one TimeSeries with one sample per add(). The buffer is reused:
// after clear() a warm instance allocates nothing.
class write_request {
 public:
  // `labels` must be sorted by name, with unique names and non-empty values (the caller's
  // contract; the protocol requires it). `__name__` is one of them.
  void add(std::span<const label> labels, double value, std::int64_t ts_ms) {
    std::size_t labels_len = 0;
    for (const auto& l : labels) {
      std::size_t one = 2 + wire::varint_size(l.name.size()) + l.name.size() +
                        wire::varint_size(l.value.size()) + l.value.size();
      labels_len += 1 + wire::varint_size(one) + one;
    }
    const std::uint64_t ts = static_cast<std::uint64_t>(ts_ms);
    const std::size_t sample_len = 1 + 8 + 1 + wire::varint_size(ts);
    const std::size_t series_len = labels_len + 1 + wire::varint_size(sample_len) + sample_len;
    const std::size_t total = 1 + wire::varint_size(series_len) + series_len;
    const std::size_t at = buf_.size();
    buf_.resize(at + total);
    char* p = buf_.data() + at;
    *p++ = wire::tag_timeseries;
    p = wire::put_varint(p, series_len);
    for (const auto& l : labels) {
      std::size_t one = 2 + wire::varint_size(l.name.size()) + l.name.size() +
                        wire::varint_size(l.value.size()) + l.value.size();
      *p++ = wire::tag_labels;
      p = wire::put_varint(p, one);
      p = wire::put_bytes(p, wire::tag_name, l.name);
      p = wire::put_bytes(p, wire::tag_value, l.value);
    }
    *p++ = wire::tag_samples;
    p = wire::put_varint(p, sample_len);
    *p++ = wire::tag_sample_value;
    std::uint64_t bits;
    std::memcpy(&bits, &value, 8);
    for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(bits >> (8 * i));  // little-endian fixed64
    *p++ = wire::tag_sample_ts;
    wire::put_varint(p, ts);
    ++samples_;
  }

  void clear() noexcept {
    buf_.clear();
    samples_ = 0;
  }
  std::size_t samples() const noexcept { return samples_; }
  bool empty() const noexcept { return samples_ == 0; }
  std::string_view bytes() const noexcept { return buf_; }

 private:
  std::string buf_;
  std::size_t samples_ = 0;
};

// Snappy block compression (not the framed format), into `out` (replaced).
inline void snappy_compress(std::string_view in, std::string& out) {
  out.resize(snappy::MaxCompressedLength(in.size()));
  std::size_t n = 0;
  snappy::RawCompress(in.data(), in.size(), out.data(), &n);
  out.resize(n);
}

// False when `in` is not a valid snappy block.
inline bool snappy_uncompress(std::string_view in, std::string& out) {
  std::size_t n = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &n)) return false;
  out.resize(n);
  return snappy::RawUncompress(in.data(), in.size(), out.data());
}

}  // namespace heartbeat::remote_write
