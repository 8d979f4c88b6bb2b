// builtin_policy: the codec's crypto and compression with no third-party code, for
// hbc_mini: HMAC-SHA256 from core/sha256.hpp, no deflate (bodies go out as text),
// and no inflate (a zlib body is rejected with inflate_error). Stateless; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "heartbeat/core/sha256.hpp"
#include "heartbeat/protocol/codec.hpp"
#include "heartbeat/protocol/reject.hpp"

namespace heartbeat::protocol {

struct builtin_policy {
  class inflater {
   public:
    reject inflate(std::span<const std::uint8_t>, std::string&, std::size_t, std::size_t& len) {
      len = 0;
      return reject::inflate_error;
    }
  };

  static constexpr bool can_deflate = false;
  static bool deflate(std::string_view, std::string&) { return false; }

  static crypto::digest256 hmac(std::string_view key, const void* data, std::size_t n) noexcept {
    return crypto::hmac_sha256(key, data, n);
  }
};

}  // namespace heartbeat::protocol
