// The wire codec: decodes a datagram (optional HBA1 envelope, JSON or zlib body)
// into a validated `message`, and encodes every message type into a datagram.
// Crypto and compression come from a Policy (system_policy.hpp: zlib + OpenSSL;
// builtin_policy.hpp: no zlib, built-in HMAC-SHA256), so this header includes only
// the standard library. A decoder belongs to one thread (hbd: the io thread).
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/sha256.hpp"
#include "heartbeat/protocol/detail/htb_fast.hpp"
#include "heartbeat/protocol/detail/sax_handler.hpp"
#include "heartbeat/protocol/messages.hpp"
#include "heartbeat/protocol/reject.hpp"
#include "heartbeat/protocol/replay_cache.hpp"

namespace heartbeat::protocol {

inline constexpr std::string_view envelope_magic = "HBA1";
inline constexpr std::size_t mac_size = 32;

struct decode_options {
  std::size_t max_message_bytes = default_max_message_bytes;  // body, before and after inflating
  double auth_window = 120;                                   // seconds either side of now
  bool require_auth = false;                                  // drop every unauthenticated datagram
  std::size_t replay_capacity = std::size_t{1} << 20;         // macs remembered at most (24 B each)
};

// Policy requirements (see builtin_policy.hpp):
//   typename Policy::inflater with
//     reject inflate(std::span<const std::uint8_t> in, std::string& buf, std::size_t cap, std::size_t& len);
//   static constexpr bool can_deflate;
//   static bool deflate(std::string_view in, std::string& out);
//   static crypto::digest256 hmac(std::string_view key, const void* data, std::size_t n);
template <class Policy>
class decoder {
 public:
  explicit decoder(decode_options o = {}) : opts_(o), replay_(o.replay_capacity) {}

  void set_options(const decode_options& o) {
    opts_ = o;
    replay_.set_max_entries(o.replay_capacity);
  }
  const decode_options& options() const noexcept { return opts_; }

  // Decodes one datagram into `out` (whose strings are reused). `keys` maps a key id
  // or host name to that host's key (nullptr: none). `now` is Unix time in seconds.
  // Returns reject::none when `out` holds a valid message; otherwise `out` is
  // unspecified and nothing else changed (the replay cache records accepted macs only).
  template <class Keys>
  reject decode(std::span<const std::uint8_t> datagram, double now, Keys&& keys, message& out) {
    out.authenticated = false;
    out.key_id.clear();
    last_text_ = {};
    std::span<const std::uint8_t> body = datagram;
    const std::uint8_t* mac = nullptr;
    if (datagram.size() >= 4 && std::memcmp(datagram.data(), envelope_magic.data(), 4) == 0) {
      if (datagram.size() < 5) return reject::auth_failed;
      std::size_t id_len = datagram[4];
      if (id_len == 0 || datagram.size() < 5 + id_len + mac_size) return reject::auth_failed;
      std::string_view key_id(reinterpret_cast<const char*>(datagram.data()) + 5, id_len);
      const std::string* key = keys(key_id);
      if (!key) return reject::unknown_key;
      mac = datagram.data() + 5 + id_len;
      body = datagram.subspan(5 + id_len + mac_size);
      crypto::digest256 want = Policy::hmac(*key, body.data(), body.size());
      if (!crypto::equal_constant_time(want.data(), mac, mac_size)) return reject::auth_failed;
      out.authenticated = true;
      out.key_id.assign(key_id);
    } else if (opts_.require_auth) {
      return reject::auth_required;
    }

    if (body.empty()) return reject::unknown_first_byte;
    if (body.size() > opts_.max_message_bytes) return reject::too_large;
    std::string_view text;
    if (body[0] == '{') {
      text = std::string_view(reinterpret_cast<const char*>(body.data()), body.size());
    } else if (body[0] == 0x78) {
      std::size_t len = 0;
      reject r = inflater_.inflate(body, inflated_, opts_.max_message_bytes, len);
      if (r != reject::none) return r;
      text = std::string_view(inflated_.data(), len);
    } else {
      return reject::unknown_first_byte;
    }
    last_text_ = text;

    // Heartbeats in our encoders' exact shape skip the generic parser (same verdicts).
    if (fast_paths_ && text.size() > 12 && std::memcmp(text.data(), "{\"ID\":\"HTB\",", 12) == 0) {
      std::optional<double> ts;
      if (detail::htb_scanner(text).run(out, ts)) return check_auth(out, ts, mac, now, keys);
    }

    detail::decode_handler h(text, out, staging_);
    json::parse_limits limits;
    limits.max_depth = max_json_depth;
    switch (json::parse_sax(text, h, limits, scratch_)) {
      case json::parse_status::ok: break;
      case json::parse_status::bad_json: return reject::bad_json;
      case json::parse_status::bad_utf8: return reject::bad_utf8;
      case json::parse_status::too_deep: return reject::too_deep;
      case json::parse_status::aborted: return h.abort_reason();
    }
    if (reject r = h.finish(); r != reject::none) return r;
    return check_auth(out, h.ts(), mac, now, keys);
  }

  // Off: every datagram takes the generic parser (tests compare both paths).
  void set_fast_paths(bool on) noexcept { fast_paths_ = on; }

  const replay_cache& replays() const noexcept { return replay_; }
  // The JSON text of the last datagram decode() parsed (envelope removed, inflated);
  // valid until the next decode() (hbd journals it as received).
  std::string_view last_text() const noexcept { return last_text_; }

 private:
  // The checks after parsing: name vs key id, ts window, replay; auth_required.
  template <class Keys>
  reject check_auth(message& out, std::optional<double> ts, const std::uint8_t* mac, double now, Keys& keys) {
    bool client = detail::is_client_type(out.type);
    if (out.authenticated) {
      if (client && out.sender() != out.key_id) return reject::name_mismatch;
      if (!ts) return reject::missing_field;
      if (!(std::fabs(now - *ts) <= opts_.auth_window)) return reject::stale_ts;
      if (replay_.check_and_insert(mac, *ts + opts_.auth_window, now)) return reject::replay;
      return reject::none;
    }
    // CMD and UPD are only ever acted on when authenticated.
    if (out.type == msg_type::cmd || out.type == msg_type::upd) return reject::auth_required;
    if (client && keys(out.sender()) != nullptr) return reject::auth_required;
    return reject::none;
  }

  bool fast_paths_ = true;
  decode_options opts_;
  typename Policy::inflater inflater_;
  std::string inflated_;
  std::string_view last_text_;
  std::string scratch_;  // unescaped strings
  detail::staging staging_;
  replay_cache replay_;
};

struct encode_options {
  std::string_view key_id;                         // defaults to the message's name for client messages
  std::string_view key;                            // empty: no envelope
  std::size_t compress_over = compress_threshold;  // 0 = never compress
  double now = 0;  // ts stamped on authenticated messages that carry none; 0 = system clock
};

namespace detail {

// Appends `"key":` (with a leading comma unless first).
inline void key(std::string& out, std::string_view k) {
  if (out.back() != '{') out.push_back(',');
  out.push_back('"');
  out.append(k);
  out.append("\":");
}
inline void put(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  json::write_string(out, v);
}
inline void put(std::string& out, std::string_view k, double v) {
  key(out, k);
  json::write_number(out, v);
}
inline void put_int(std::string& out, std::string_view k, std::int64_t v) {
  key(out, k);
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}
inline void put_uint(std::string& out, std::string_view k, std::uint64_t v) {
  key(out, k);
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// Writes the envelope header (mac zeroed), the body via `write` (which receives
// the ts to stamp when authenticated, else nullopt for "keep the message's"), then
// compresses and signs.
template <class Policy, class Write>
void frame(std::string& out, const encode_options& o, std::string_view default_key_id, Write&& write) {
  out.clear();
  bool auth = !o.key.empty();
  std::size_t hdr = 0;
  if (auth) {
    std::string_view kid = o.key_id.empty() ? default_key_id : o.key_id;
    if (kid.size() > 255) kid = kid.substr(0, 255);
    out.append(envelope_magic);
    out.push_back(static_cast<char>(kid.size()));
    out.append(kid);
    out.append(mac_size, '\0');
    hdr = out.size();
  }
  out.push_back('{');
  write(out, auth ? (o.now != 0 ? o.now : clock::wall_now()) : 0.0, auth);
  out.push_back('}');
  if constexpr (Policy::can_deflate) {
    if (o.compress_over != 0 && out.size() - hdr > o.compress_over) {
      thread_local std::string z;
      if (Policy::deflate(std::string_view(out).substr(hdr), z) && z.size() < out.size() - hdr) {
        out.resize(hdr);
        out.append(z);
      }
    }
  }
  if (auth) {
    crypto::digest256 mac = Policy::hmac(o.key, out.data() + hdr, out.size() - hdr);
    std::memcpy(out.data() + hdr - mac_size, mac.data(), mac_size);
  }
}

// ts: the message's own, or the stamp when authenticated and it has none.
inline void put_ts(std::string& out, const std::optional<double>& ts, double stamp, bool auth) {
  if (ts)
    put(out, "ts", *ts);
  else if (auth)
    put(out, "ts", stamp);
}

}  // namespace detail

// Each writes a complete datagram (optional envelope + JSON or zlib body) into `out`.
// Precondition when authenticating: the key id is 1..253 bytes.
template <class Policy>
void encode(const heartbeat_msg& m, std::string& out, const encode_options& o = {}) {
  detail::frame<Policy>(out, o, m.name, [&](std::string& b, double stamp, bool auth) {
    b.append("\"ID\":\"HTB\"");
    detail::put(b, "name", m.name);
    detail::put_int(b, "ver", m.ver);
    detail::put_uint(b, "seq", m.seq);
    detail::put(b, "interval", m.interval);
    detail::put_ts(b, m.ts, stamp, auth);
    if (m.rtt) detail::put(b, "rtt", *m.rtt);
    if (!m.agent.empty()) detail::put(b, "agent", m.agent);
    if (!m.owner.empty()) detail::put(b, "owner", m.owner);
    if (m.boot_time) detail::put(b, "boot_time", *m.boot_time);
  });
}

// `data_json` is inserted verbatim (it must be a JSON object; empty means {}).
template <class Policy>
void encode(const plugin_msg& m, std::string& out, const encode_options& o = {}) {
  detail::frame<Policy>(out, o, m.name, [&](std::string& b, double stamp, bool auth) {
    b.append("\"ID\":\"PLG\"");
    detail::put(b, "name", m.name);
    detail::put(b, "plugin", m.plugin);
    if (!m.kind.empty()) detail::put(b, "kind", m.kind);
    detail::put_ts(b, m.ts, stamp, auth);
    if (m.interval) detail::put(b, "interval", *m.interval);
    detail::key(b, "data");
    if (m.data_json.empty())
      b.append("{}");
    else
      b.append(m.data_json);
  });
}

template <class Policy>
void encode(const message_msg& m, std::string& out, const encode_options& o = {}) {
  detail::frame<Policy>(out, o, m.name, [&](std::string& b, double stamp, bool auth) {
    b.append("\"ID\":\"MSG\"");
    detail::put(b, "name", m.name);
    detail::put(b, "msg", m.msg);
    detail::put(b, "event", to_string(m.event));
    detail::put_ts(b, m.ts, stamp, auth);
  });
}

template <class Policy>
void encode(const result_msg& m, std::string& out, const encode_options& o = {}) {
  detail::frame<Policy>(out, o, m.name, [&](std::string& b, double stamp, bool auth) {
    b.append("\"ID\":\"RES\"");
    detail::put(b, "name", m.name);
    detail::put(b, "cmd_id", m.cmd_id);
    detail::put_int(b, "rc", m.rc);
    detail::put(b, "output", m.output);
    detail::put_ts(b, m.ts, stamp, auth);
  });
}

template <class Policy>
void encode(const ack_msg& m, std::string& out, const encode_options& o = {}) {
  detail::frame<Policy>(out, o, {}, [&](std::string& b, double stamp, bool auth) {
    b.append("\"ID\":\"ACK\"");
    detail::put_uint(b, "seq", m.seq);
    detail::put_ts(b, m.ts, stamp, auth);
    detail::put(b, "server_ts", m.server_ts);
    detail::put_int(b, "request_update", m.request_update ? 1 : 0);
  });
}

template <class Policy>
void encode(const command_msg& m, std::string& out, const encode_options& o = {}) {
  detail::frame<Policy>(out, o, {}, [&](std::string& b, double stamp, bool auth) {
    b.append("\"ID\":\"CMD\"");
    detail::put(b, "cmd_id", m.cmd_id);
    detail::put(b, "command", m.command);
    detail::key(b, "args");
    b.push_back('[');
    for (std::size_t i = 0; i < m.args.size(); ++i) {
      if (i) b.push_back(',');
      json::write_string(b, m.args[i]);
    }
    b.push_back(']');
    detail::put_ts(b, std::nullopt, stamp, auth);
  });
}

template <class Policy>
void encode(const upgrade_msg& m, std::string& out, const encode_options& o = {}) {
  detail::frame<Policy>(out, o, {}, [&](std::string& b, double stamp, bool auth) {
    b.append("\"ID\":\"UPD\"");
    detail::put(b, "cmd_id", m.cmd_id);
    if (!m.version.empty()) detail::put(b, "version", m.version);
    detail::put_ts(b, std::nullopt, stamp, auth);
  });
}

template <class Policy>
void encode(const error_msg& m, std::string& out, const encode_options& o = {}) {
  detail::frame<Policy>(out, o, {}, [&](std::string& b, double stamp, bool auth) {
    b.append("\"ID\":\"ERR\"");
    detail::put(b, "error", m.error);
    detail::put_ts(b, std::nullopt, stamp, auth);
  });
}

}  // namespace heartbeat::protocol
