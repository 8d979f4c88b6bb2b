// system_policy: the codec's crypto and compression for hbd and hbc: zlib (inflate
// capped at max_message_bytes, deflate on a reused stream) and OpenSSL's HMAC.
// An inflater belongs to one decoder (one thread); deflate state is per thread.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "heartbeat/core/sha256.hpp"
#include "heartbeat/protocol/codec.hpp"
#include "heartbeat/protocol/reject.hpp"

namespace heartbeat::protocol {

struct system_policy {
  // Inflates into a buffer that grows only as output appears, never past `cap`: a
  // zlib bomb costs at most `cap` bytes. The z_stream is reset, not re-created.
  class inflater {
   public:
    inflater() = default;
    inflater(inflater&&) noexcept = default;
    inflater& operator=(inflater&&) noexcept = default;

    reject inflate(std::span<const std::uint8_t> in, std::string& buf, std::size_t cap, std::size_t& len) {
      len = 0;
      if (!zs_) {
        zs_.reset(new z_stream{});
        if (inflateInit(zs_.get()) != Z_OK) {
          zs_.reset();
          return reject::inflate_error;
        }
      } else if (inflateReset(zs_.get()) != Z_OK) {
        return reject::inflate_error;
      }
      z_stream& z = *zs_;
      z.next_in = const_cast<Bytef*>(in.data());
      z.avail_in = static_cast<uInt>(in.size());
      std::size_t want = std::min(cap, std::max<std::size_t>(in.size() * 4, 4096));
      if (buf.size() < want) buf.resize(want);
      for (;;) {
        std::size_t limit = std::min(buf.size(), cap);
        if (len == limit) {
          if (limit < cap) {
            buf.resize(std::min(cap, buf.size() * 2));
            continue;
          }
          // At the cap: one more byte of output means the body is too large.
          unsigned char probe;
          z.next_out = &probe;
          z.avail_out = 1;
          int rc = ::inflate(&z, Z_NO_FLUSH);
          if (z.avail_out == 0) return reject::too_large;
          if (rc == Z_STREAM_END) return z.avail_in == 0 ? reject::none : reject::inflate_error;
          return reject::inflate_error;
        }
        std::size_t avail = std::min<std::size_t>(limit - len, 1u << 30);
        z.next_out = reinterpret_cast<Bytef*>(buf.data() + len);
        z.avail_out = static_cast<uInt>(avail);
        int rc = ::inflate(&z, Z_NO_FLUSH);
        len += avail - z.avail_out;
        if (rc == Z_STREAM_END) return z.avail_in == 0 ? reject::none : reject::inflate_error;
        if (rc == Z_OK) continue;
        if (rc == Z_BUF_ERROR && z.avail_out == 0) continue;
        return reject::inflate_error;  // corrupt, truncated (Z_BUF_ERROR with input used up), dictionary
      }
    }

   private:
    struct end {
      void operator()(z_stream* z) const noexcept {
        inflateEnd(z);
        delete z;
      }
    };
    std::unique_ptr<z_stream, end> zs_;
  };

  static constexpr bool can_deflate = true;

  // Compresses `in` into `out` (RFC 1950). compress2 would set up ~256 KiB of state
  // per call; one stream per thread, reset each time, costs a quarter of that.
  static bool deflate(std::string_view in, std::string& out) {
    struct stream {
      z_stream z{};
      bool ok = false;
      stream() { ok = deflateInit(&z, Z_DEFAULT_COMPRESSION) == Z_OK; }
      ~stream() {
        if (ok) deflateEnd(&z);
      }
    };
    thread_local stream s;
    if (!s.ok || deflateReset(&s.z) != Z_OK) return false;
    out.resize(deflateBound(&s.z, static_cast<uLong>(in.size())));
    s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    s.z.avail_in = static_cast<uInt>(in.size());
    s.z.next_out = reinterpret_cast<Bytef*>(out.data());
    s.z.avail_out = static_cast<uInt>(out.size());
    if (::deflate(&s.z, Z_FINISH) != Z_STREAM_END) return false;
    out.resize(s.z.total_out);
    return true;
  }

  // HMAC-SHA256 with OpenSSL's (SHA-NI accelerated) SHA-256. The one-shot HMAC()
  // of OpenSSL 3 fetches its algorithm on every call (~2 us); here the digest is
  // fetched once per thread and the two hashes of RFC 2104 run on a reused context.
  static crypto::digest256 hmac(std::string_view key, const void* data, std::size_t n) noexcept {
    struct state {
      EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      ~state() {
        EVP_MD_CTX_free(ctx);
        EVP_MD_free(md);
      }
    };
    thread_local state s;
    crypto::digest256 out{};
    if (!s.md || !s.ctx) {
      unsigned int len = 0;
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), static_cast<const unsigned char*>(data), n,
           out.data(), &len);
      return out;
    }
    unsigned char k[64] = {};
    unsigned int len = 0;
    if (key.size() > 64)
      EVP_Digest(key.data(), key.size(), k, &len, s.md, nullptr);
    else
      std::memcpy(k, key.data(), key.size());
    unsigned char pad[64];
    for (int i = 0; i < 64; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
    unsigned char inner[32];
    EVP_DigestInit_ex2(s.ctx, s.md, nullptr);
    EVP_DigestUpdate(s.ctx, pad, 64);
    EVP_DigestUpdate(s.ctx, data, n);
    EVP_DigestFinal_ex(s.ctx, inner, &len);
    for (int i = 0; i < 64; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
    EVP_DigestInit_ex2(s.ctx, s.md, nullptr);
    EVP_DigestUpdate(s.ctx, pad, 64);
    EVP_DigestUpdate(s.ctx, inner, 32);
    EVP_DigestFinal_ex(s.ctx, out.data(), &len);
    return out;
  }
};

}  // namespace heartbeat::protocol
