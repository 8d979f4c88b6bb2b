// Password hashes in the Werkzeug form the seeds use, `pbkdf2:sha256:<iterations>$<salt>$<hex hash>`,
// computed with OpenSSL's PKCS5_PBKDF2_HMAC. Pure functions: `hbd passwd` calls hash_password on the
// main thread; the API verifies on its login worker thread (verification is deliberately slow).
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "heartbeat/core/result.hpp"

namespace heartbeat::api {

// Werkzeug's current default; about 0.1-0.3 s per verification on a small machine,
// which is the point (offline guessing), and why logins are rate limited.
inline constexpr unsigned default_pbkdf2_iterations = 600000;

namespace detail {

inline std::string to_hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

// Salt alphabet of Werkzeug's gen_salt: letters and digits only, so '$' never appears.
inline result<std::string> random_salt(std::size_t n) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  while (out.size() < n) {
    unsigned char buf[32];
    if (RAND_bytes(buf, sizeof buf) != 1) return make_error("random_failed", "OpenSSL RAND_bytes failed");
    for (unsigned char b : buf) {
      if (b >= 248) continue;  // 248 = 4 * 62: keeps the choice uniform
      out.push_back(alphabet[b % 62]);
      if (out.size() == n) break;
    }
  }
  return out;
}

inline const EVP_MD* digest_by_name(std::string_view name) {
  if (name == "sha256") return EVP_sha256();
  if (name == "sha512") return EVP_sha512();
  if (name == "sha1") return EVP_sha1();
  return nullptr;
}

inline result<std::string> pbkdf2_hex(std::string_view password, std::string_view salt, unsigned iterations,
                                      const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  int len = EVP_MD_size(md);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        static_cast<int>(iterations), md, len, out) != 1)
    return make_error("pbkdf2_failed", "OpenSSL PKCS5_PBKDF2_HMAC failed");
  return to_hex(out, static_cast<std::size_t>(len));
}

}  // namespace detail

// Returns "pbkdf2:sha256:<iterations>$<16-char salt>$<64 hex digits>".
inline result<std::string> hash_password(std::string_view password,
                                         unsigned iterations = default_pbkdf2_iterations) {
  if (iterations == 0) return make_error("bad_iterations", "iterations must be positive");
  auto salt = detail::random_salt(16);
  if (!salt) return salt.err();
  auto h = detail::pbkdf2_hex(password, *salt, iterations, EVP_sha256());
  if (!h) return h.err();
  return "pbkdf2:sha256:" + std::to_string(iterations) + "$" + *salt + "$" + *h;
}

// Parsed form of a stored hash; `valid()` is false for anything this server cannot verify.
struct password_hash {
  const EVP_MD* md = nullptr;
  unsigned iterations = 0;
  std::string_view salt, hash;
  bool valid() const noexcept { return md != nullptr && iterations > 0 && !hash.empty(); }
};

// Accepts `pbkdf2:<digest>[:<iterations>]$<salt>$<hex>`; without iterations Werkzeug meant 260000.
inline password_hash parse_password_hash(std::string_view stored) noexcept {
  password_hash out;
  auto d1 = stored.find('$');
  if (d1 == std::string_view::npos) return out;
  auto d2 = stored.find('$', d1 + 1);
  if (d2 == std::string_view::npos) return out;
  std::string_view method = stored.substr(0, d1);
  out.salt = stored.substr(d1 + 1, d2 - d1 - 1);
  out.hash = stored.substr(d2 + 1);
  if (method.substr(0, 7) != "pbkdf2:") return password_hash{};
  method.remove_prefix(7);
  auto c = method.find(':');
  std::string_view digest = method.substr(0, c);
  unsigned it = 260000;
  if (c != std::string_view::npos) {
    std::string_view num = method.substr(c + 1);
    auto r = std::from_chars(num.data(), num.data() + num.size(), it);
    if (r.ec != std::errc{} || r.ptr != num.data() + num.size() || it == 0 || it > 100000000)
      return password_hash{};
  }
  out.md = detail::digest_by_name(digest);
  out.iterations = it;
  if (!out.md) return password_hash{};
  return out;
}

// Constant-time comparison of the recomputed hash; false for malformed hashes.
inline bool verify_password(std::string_view password, std::string_view stored) {
  password_hash h = parse_password_hash(stored);
  if (!h.valid()) return false;
  auto computed = detail::pbkdf2_hex(password, h.salt, h.iterations, h.md);
  if (!computed || computed->size() != h.hash.size()) return false;
  std::string expect(h.hash);
  for (auto& ch : expect)
    if (ch >= 'A' && ch <= 'F') ch = static_cast<char>(ch - 'A' + 'a');
  return CRYPTO_memcmp(computed->data(), expect.data(), expect.size()) == 0;
}

}  // namespace heartbeat::api
