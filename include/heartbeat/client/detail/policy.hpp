// The codec policy of hbc: zlib compression (system_policy's deflate and
// bomb-safe inflater) with the built-in HMAC-SHA256 of core/sha256.hpp, so hbc
// never loads libcrypto (~1.4 MiB of RSS for a few HMACs a minute). Stateless
// apart from zlib's per-thread stream; hbc's io thread.
#pragma once

#include "heartbeat/protocol/builtin_policy.hpp"
#include "heartbeat/protocol/system_policy.hpp"

namespace heartbeat::client::detail {

struct client_policy {
  using inflater = protocol::system_policy::inflater;
  static constexpr bool can_deflate = true;
  static bool deflate(std::string_view in, std::string& out) {
    return protocol::system_policy::deflate(in, out);
  }
  static crypto::digest256 hmac(std::string_view key, const void* data, std::size_t n) noexcept {
    return protocol::builtin_policy::hmac(key, data, n);
  }
};

}  // namespace heartbeat::client::detail
