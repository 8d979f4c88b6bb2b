// Users, roles, sessions, login rate limiting, CSRF and CORS decisions for the HTTP API and the
// WebSocket stream. Plain data and pure decisions taking `now` as an argument; the objects live on
// the io thread (the HTTP server's handlers), except password hashing, which any thread may call.
#pragma once

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "heartbeat/api/password.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/enum_names.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"

namespace heartbeat::api {

// ---- users and roles ----------------------------------------------------------------------------

struct user {
  std::string name;
  std::string full_name;
  std::string avatar;
  std::string password;  // pbkdf2:sha256:... hash; never logged, never returned by the API
  bool admin = false;
  std::vector<std::string> notification_channels;
};

// A user as the API shows it (no password hash).
inline json::value user_json(const user& u) {
  json::value ch = json::value::array();
  for (const auto& c : u.notification_channels) ch.push_back(c);
  return json::value::object({{"username", u.name},
                              {"full_name", u.full_name},
                              {"avatar", u.avatar},
                              {"admin", u.admin},
                              {"notification_channels", std::move(ch)}});
}

// Per-host roles, ordered so that a higher role includes every lower one (README "User Management":
// monitor views; manager also queues commands, triggers DNS, queues upgrades; owner also drops the
// host, transfers ownership and updates access). The admin flag is owner on every host.
enum class role : std::uint8_t { none, monitor, manager, owner };

inline constexpr enum_names<role::owner> role_names{{"none", "monitor", "manager", "owner"}, "unknown"};

inline const char* to_string(role r) noexcept { return role_names[r]; }

// Who holds which role on one host (effective: config + HTB-declared owner + API changes).
struct host_access {
  std::string owner;
  std::vector<std::string> managers;
  std::vector<std::string> monitors;
};

inline role role_on(const user& u, std::string_view owner, const std::vector<std::string>& managers,
                    const std::vector<std::string>& monitors) noexcept {
  if (u.admin) return role::owner;
  if (!owner.empty() && owner == u.name) return role::owner;
  if (std::find(managers.begin(), managers.end(), u.name) != managers.end()) return role::manager;
  if (std::find(monitors.begin(), monitors.end(), u.name) != monitors.end()) return role::monitor;
  return role::none;
}

inline role role_on(const user& u, const host_access& a) noexcept {
  return role_on(u, a.owner, a.managers, a.monitors);
}

// The configured accounts; empty means unauthenticated mode (everything open, as in the seeds).
class user_directory {
 public:
  user_directory() = default;
  explicit user_directory(std::vector<user> users) {
    for (auto& u : users) users_[u.name] = std::move(u);
  }
  bool enabled() const noexcept { return !users_.empty(); }
  const user* find(std::string_view name) const {
    auto it = users_.find(std::string(name));
    return it == users_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, user>& all() const noexcept { return users_; }
  void upsert(user u) { users_[u.name] = std::move(u); }
  bool erase(std::string_view name) { return users_.erase(std::string(name)) > 0; }

 private:
  std::map<std::string, user> users_;  // ordered: stable listings
};

// Valid user names: what config keys and URL segments can carry without escaping.
inline bool valid_user_name(std::string_view n) noexcept {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.' || c == '@';
    if (!ok) return false;
  }
  return true;
}

// ---- sessions -------------------------------------------------------------------------------------

namespace detail {

inline std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) return {};
  return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), bytes);
}

// Sessions are stored under SHA-256 of the token: a memory dump or a timing side channel on the
// map lookup reveals nothing usable.
inline std::string token_digest(std::string_view token) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(token.data(), token.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

}  // namespace detail

struct session {
  std::string user;
  std::string csrf;  // double-submit token for cookie-authenticated writes
  double created = 0;
  double expires = 0;   // wall time, as told to the client
  double deadline = 0;  // the same moment on the monotonic clock: expiry is judged by it
};

// Opaque random tokens (256 bit) that live session_ttl seconds; the same token works as cookie and as
// Bearer token. Revoked on logout, on user deletion and when the store is full (oldest first). A
// session lasts its TTL of elapsed time whatever the wall clock does (monotonic deadline); `now`
// arguments other than create()'s are monotonic time.
class session_store {
 public:
  explicit session_store(double ttl_seconds = 12 * 3600, std::size_t max_sessions = 100000)
      : ttl_(ttl_seconds), max_(max_sessions) {}

  void set_ttl(double ttl) noexcept { ttl_ = ttl; }
  double ttl() const noexcept { return ttl_; }

  struct issued {
    std::string token;
    session s;
  };

  result<issued> create(std::string_view user, clock::instant now) {
    expire(now.mono);
    while (sessions_.size() >= max_ && !order_.empty()) {
      sessions_.erase(order_.front());
      order_.pop_front();
    }
    std::string token = detail::random_hex(32);
    std::string csrf = detail::random_hex(16);
    if (token.empty() || csrf.empty())
      return make_error("random_failed", "no randomness for a session token");
    session s{std::string(user), csrf, now.wall, now.wall + ttl_, now.mono + ttl_};
    std::string key = detail::token_digest(token);
    sessions_[key] = s;
    if (on_change) on_change(key, &s);
    order_.push_back(std::move(key));
    return issued{std::move(token), std::move(s)};
  }

  // The live session for a token, or nullptr (unknown, revoked or expired).
  const session* find(std::string_view token, double now) const {
    if (token.empty() || token.size() > 256) return nullptr;
    auto it = sessions_.find(detail::token_digest(token));
    if (it == sessions_.end() || it->second.deadline <= now) return nullptr;
    return &it->second;
  }

  bool revoke(std::string_view token) {
    std::string key = detail::token_digest(token);
    if (on_change) on_change(key, nullptr);
    return sessions_.erase(key) > 0;
  }

  // Revokes every session of a user (deleted or demoted account).
  std::size_t revoke_user(std::string_view user) {
    if (on_revoke_user) on_revoke_user(user);
    std::size_t n = 0;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second.user == user) {
        it = sessions_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }

  std::size_t size() const noexcept { return sessions_.size(); }

  // Several hbd nodes share sessions (docs/CLUSTER.md): told of every session made or revoked
  // here (digest = SHA-256 of the token; nullptr: revoked) and of every user whose sessions
  // were revoked; adopt() and forget() take the other nodes' changes (without telling back).
  std::function<void(const std::string& digest, const session*)> on_change;
  std::function<void(std::string_view user)> on_revoke_user;
  void adopt(const std::string& digest, session s) {
    if (sessions_.count(digest) == 0) order_.push_back(digest);
    sessions_[digest] = std::move(s);
  }
  void forget(const std::string& digest) { sessions_.erase(digest); }
  void forget_user(std::string_view user) {
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.user == user; });
  }

  // Drops expired sessions; called on every create, so memory stays bounded by logins per TTL.
  void expire(double now) {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second.deadline <= now)
        it = sessions_.erase(it);
      else
        ++it;
    }
    std::erase_if(order_, [&](const std::string& k) { return !sessions_.count(k); });
  }

 private:
  double ttl_;
  std::size_t max_;
  std::unordered_map<std::string, session> sessions_;
  std::deque<std::string> order_;  // creation order, for eviction when full
};

// ---- login rate limiting -------------------------------------------------------------------------

// Counts failed logins per key (client address, user name) in a sliding window; a key with
// `max_failures` failures inside `window` seconds is refused until the oldest one leaves it.
// Times are monotonic (a step of the wall clock neither lifts nor extends a lock-out).
class rate_limiter {
 public:
  rate_limiter(std::size_t max_failures, double window, std::size_t max_keys = 100000)
      : max_(max_failures), window_(window), max_keys_(max_keys) {}

  // 0 when an attempt is allowed, else the seconds to wait (Retry-After, at least 1).
  double retry_after(const std::string& key, double now) {
    auto it = failures_.find(key);
    if (it == failures_.end()) return 0;
    prune(it->second, now);
    if (it->second.size() < max_) {
      if (it->second.empty()) failures_.erase(it);
      return 0;
    }
    return std::max(1.0, it->second.front() + window_ - now);
  }

  void fail(const std::string& key, double now) {
    if (failures_.size() >= max_keys_ && !failures_.count(key)) sweep(now);
    if (failures_.size() >= max_keys_) return;  // flooded with distinct keys: per-key state is capped
    auto& q = failures_[key];
    prune(q, now);
    q.push_back(now);
    while (q.size() > max_) q.pop_front();
  }

  void reset(const std::string& key) { failures_.erase(key); }
  // Takes back the newest failure of `key` (an attempt counted on arrival that succeeded).
  void refund(const std::string& key) {
    auto it = failures_.find(key);
    if (it == failures_.end()) return;
    if (!it->second.empty()) it->second.pop_back();
    if (it->second.empty()) failures_.erase(it);
  }
  std::size_t keys() const noexcept { return failures_.size(); }

 private:
  void prune(std::deque<double>& q, double now) const {
    while (!q.empty() && q.front() + window_ <= now) q.pop_front();
  }
  void sweep(double now) {
    for (auto it = failures_.begin(); it != failures_.end();) {
      prune(it->second, now);
      if (it->second.empty())
        it = failures_.erase(it);
      else
        ++it;
    }
  }

  std::size_t max_;
  double window_;
  std::size_t max_keys_;
  std::unordered_map<std::string, std::deque<double>> failures_;
};

// Both limits of the login endpoint: per client address (password spraying from one place) and
// per user name (guessing one account from many places). An attempt counts as a failure when it
// arrives (begin), before its password check has run, so guesses sent at once cannot queue up
// past the limit while the slow checks run; a success takes it back.
struct login_limits {
  rate_limiter per_address{20, 300};
  rate_limiter per_user{5, 300};

  double retry_after(const std::string& address, const std::string& user, double now) {
    return std::max(per_address.retry_after("a:" + address, now), per_user.retry_after("u:" + user, now));
  }
  // 0 when the attempt may go on (it is counted now), else the seconds to wait (nothing counted).
  double begin(const std::string& address, const std::string& user, double now) {
    if (double wait = retry_after(address, user, now); wait > 0) return wait;
    failed(address, user, now);
    return 0;
  }
  void failed(const std::string& address, const std::string& user, double now) {
    per_address.fail("a:" + address, now);
    per_user.fail("u:" + user, now);
  }
  void succeeded(const std::string& user) { per_user.reset("u:" + user); }
  // The attempt begun from `address` for `user` was right.
  void succeeded(const std::string& address, const std::string& user) {
    per_address.refund("a:" + address);
    succeeded(user);
  }
  // The attempt begun from `address` for `user` was never checked.
  void cancel(const std::string& address, const std::string& user) {
    per_address.refund("a:" + address);
    per_user.refund("u:" + user);
  }
};

// ---- CSRF and CORS ----------------------------------------------------------------------------------

// Cookie-authenticated writes need the session's CSRF token in the X-CSRF-Token header (the token is
// also in the readable `hb_csrf` cookie and in /api/0/me: double submit). A cross-site page can make
// the browser send the cookie but can read neither. Bearer-authenticated requests are exempt:
// browsers never attach Authorization on their own.
inline bool is_write_method(std::string_view method) noexcept {
  return !(method == "GET" || method == "HEAD" || method == "OPTIONS");
}

inline bool csrf_ok(const session& s, std::string_view header_token) noexcept {
  if (header_token.size() != s.csrf.size() || s.csrf.empty()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < s.csrf.size(); ++i)
    diff |= static_cast<unsigned char>(header_token[i] ^ s.csrf[i]);
  return diff == 0;
}

// CORS allow-list (`cors_origins`): off when empty. "*" allows any origin without credentials.
class cors_policy {
 public:
  cors_policy() = default;
  explicit cors_policy(std::vector<std::string> origins) : origins_(std::move(origins)) {}
  bool enabled() const noexcept { return !origins_.empty(); }
  bool any() const noexcept { return std::find(origins_.begin(), origins_.end(), "*") != origins_.end(); }
  bool allows(std::string_view origin) const noexcept {
    if (origin.empty()) return false;
    for (const auto& o : origins_)
      if (o == origin) return true;
    return any();
  }
  // Headers for a response to `origin` (empty when not allowed).
  std::vector<std::pair<std::string, std::string>> headers(std::string_view origin, bool preflight) const {
    std::vector<std::pair<std::string, std::string>> h;
    if (!allows(origin)) return h;
    bool exact = std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
    h.emplace_back("Access-Control-Allow-Origin", exact ? std::string(origin) : std::string("*"));
    h.emplace_back("Vary", "Origin");
    if (exact) h.emplace_back("Access-Control-Allow-Credentials", "true");
    if (preflight) {
      h.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
      h.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, X-CSRF-Token");
      h.emplace_back("Access-Control-Max-Age", "600");
    }
    return h;
  }

 private:
  std::vector<std::string> origins_;
};

// ---- request credentials ------------------------------------------------------------------------------

// The value of cookie `name` in a Cookie header, or empty.
inline std::string_view cookie_value(std::string_view header, std::string_view name) noexcept {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    if (part.substr(0, eq) == name) return part.substr(eq + 1);
  }
  return {};
}

// The token of an `Authorization: Bearer <token>` header, or empty.
inline std::string_view bearer_token(std::string_view header) noexcept {
  constexpr std::string_view prefix = "Bearer ";
  if (header.size() <= prefix.size()) return {};
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return {};
  header.remove_prefix(prefix.size());
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  return header;
}

inline constexpr std::string_view session_cookie = "hb_session";
inline constexpr std::string_view csrf_cookie = "hb_csrf";

}  // namespace heartbeat::api
