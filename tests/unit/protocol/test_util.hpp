// Helpers shared by the protocol unit tests: byte views, a key table, zlib.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "heartbeat/protocol/builtin_policy.hpp"
#include "heartbeat/protocol/codec.hpp"
#include "heartbeat/protocol/system_policy.hpp"

namespace hbtest {

inline std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

struct key_table {
  std::map<std::string, std::string, std::less<>> keys;
  const std::string* operator()(std::string_view id) const {
    auto it = keys.find(id);
    return it == keys.end() ? nullptr : &it->second;
  }
};

inline const std::string* no_keys(std::string_view) { return nullptr; }

inline std::string zlib_compress(std::string_view s, int level = 6) {
  uLongf n = compressBound(static_cast<uLong>(s.size()));
  std::string out(n, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(s.data()),
            static_cast<uLong>(s.size()), level);
  out.resize(n);
  return out;
}

// Wraps a body in an HBA1 envelope signed with `key`.
inline std::string envelope(std::string_view key_id, std::string_view key, std::string_view body) {
  std::string out("HBA1");
  out.push_back(static_cast<char>(key_id.size()));
  out.append(key_id);
  auto mac = heartbeat::crypto::hmac_sha256(key, body);
  out.append(reinterpret_cast<const char*>(mac.data()), mac.size());
  out.append(body);
  return out;
}

}  // namespace hbtest
