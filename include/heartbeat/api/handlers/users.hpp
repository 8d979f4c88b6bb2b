// Handlers of sessions (login, logout, me) and of user management (admins). Password checks and
// hashing (PBKDF2) run on the context's worker thread; their replies come back on the io thread.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "heartbeat/api/request.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/log.hpp"

namespace heartbeat::api::handlers::users {

inline std::string cookie_attrs(bool http_only, double max_age) {
  std::string a = "; Path=/; SameSite=Strict; Max-Age=" + std::to_string(static_cast<long long>(max_age));
  if (http_only) a += "; HttpOnly";
  return a;
}

// The password check's verdict, back on the io thread. The attempt was counted as a failure when
// it arrived (log_in); a success takes that back.
inline void finish_login(context& ctx, const request_handle& req, const std::string& name,
                         const std::string& address, bool ok, bool secure) {
  const user* u = ok ? ctx.users.find(name) : nullptr;  // the account may have gone meanwhile
  if (!u) {
    ++ctx.logins_failed;
    log::warn("api: failed login for '", name, "' from ", address);
    ctx.reply_error(req, 401, "invalid username or password");
    return;
  }
  ctx.limits.succeeded(address, name);
  auto issued = ctx.sessions.create(name, clock::now());
  if (!issued) {
    ctx.reply_error(req, 500, issued.err().message);
    return;
  }
  ++ctx.logins_ok;
  log::info("api: user '", name, "' logged in from ", address);
  std::string sec = secure ? "; Secure" : "";
  json::value out = json::value::object({{"token", issued->token},
                                         {"username", name},
                                         {"expires", issued->s.expires},
                                         {"csrf_token", issued->s.csrf}});
  ctx.reply_json(req, 200, out,
                 {{"Set-Cookie", std::string(session_cookie) + "=" + issued->token +
                                     cookie_attrs(true, ctx.sessions.ttl()) + sec},
                  {"Set-Cookie", std::string(csrf_cookie) + "=" + issued->s.csrf +
                                     cookie_attrs(false, ctx.sessions.ttl()) + sec}});
}

// POST /api/0/auth/login {"username","password"}: {"token","username","expires","csrf_token"} and the
// hb_session (HttpOnly) and hb_csrf cookies, Secure on the TLS listener or behind an HTTPS proxy.
inline handled log_in(call& c, bool tls) {
  context& ctx = c.ctx;
  if (!ctx.origin_ok(c.req)) return c.error(403, "cross-origin login not allowed");
  if (!ctx.users.enabled()) return c.error(400, "authentication is not enabled (no users configured)");
  auto body = ctx.parse_body(c.req);
  if (!body) return ctx.body_error(c.req, body.err());
  const json::value* un = body->find("username");
  const json::value* pw = body->find("password");
  if (!un || !un->is_string() || !pw || !pw->is_string() || un->as_string().empty())
    return c.error(400, "username and password (strings) are required");
  std::string name = un->as_string();
  if (name.size() > 256 || pw->as_string().size() > 4096)
    return c.error(400, "username or password too long");
  std::string address = ctx.client_address(c.req);
  // Counted now, before the slow check: a burst of guesses cannot outrun the limit.
  double wait = ctx.limits.begin(address, name, clock::mono_now());
  if (wait > 0) {
    ++ctx.logins_limited;
    long secs = static_cast<long>(std::ceil(wait));
    return c.error(429, "too many failed logins; retry in " + std::to_string(secs) + " s",
                   {{"Retry-After", std::to_string(secs)}});
  }
  const user* u = ctx.users.find(name);
  std::string stored = u ? u->password : ctx.dummy_hash;
  bool exists = u != nullptr;
  std::string password = pw->as_string();
  bool secure = tls || ctx.forwarded_https(c.req);
  bool queued = ctx.worker.submit(
      ctx.alive, [password = std::move(password), stored]() { return verify_password(password, stored); },
      [&ctx, req = c.req, name, address, exists, secure](bool ok) {
        finish_login(ctx, req, name, address, ok && exists, secure);
      });
  if (!queued) {
    ctx.limits.cancel(address, name);  // not checked: not counted
    return c.error(503, "login service busy; retry shortly", {{"Retry-After", "1"}});
  }
  return restinio::request_accepted();
}

// log_in on the plain (tls false) or the TLS listener.
inline handler login(bool tls) {
  return [tls](call& c) { return log_in(c, tls); };
}

// POST /api/0/auth/logout: revokes the session (and its WebSocket streams), clears the cookies.
inline handled logout(call& c) {
  if (!c.p.token.empty()) {
    c.ctx.sessions.revoke(c.p.token);
    c.ctx.hub.revoke(c.p.token, {});
    log::info("api: user '", c.p.who ? c.p.who->name : std::string(), "' logged out");
  }
  return c.json(200, json::value::object({{"status", "logged out"}}),
                {{"Set-Cookie", std::string(session_cookie) + "=" + cookie_attrs(true, 0)},
                 {"Set-Cookie", std::string(csrf_cookie) + "=" + cookie_attrs(false, 0)}});
}

// GET /api/0/me: the caller (with csrf_token and expires), or {"auth_enabled":false,...} when open.
inline handled me(call& c) {
  if (c.p.open)
    return c.json(200,
                  json::value::object({{"auth_enabled", false}, {"username", nullptr}, {"admin", true}}));
  json::value out = user_json(*c.p.who);
  out.set("auth_enabled", true);
  out.set("csrf_token", c.p.sess->csrf);
  out.set("expires", c.p.sess->expires);
  return c.json(200, out);
}

// GET /api/0/users: every user (never a password hash).
inline handled list(call& c) {
  json::value out = json::value::array();
  for (const auto& [n, u] : c.ctx.users.all()) out.push_back(user_json(u));
  return c.json(200, out);
}

inline void store_user(context& ctx, const request_handle& req, user u, bool created,
                       const std::string& actor, bool password_changed) {
  if (created && ctx.users.find(u.name)) {
    ctx.reply_error(req, 409, "User '" + u.name + "' already exists");
    return;
  }
  if (!created && !ctx.users.find(u.name)) {
    ctx.reply_error(req, 404, "User '" + u.name + "' not found");
    return;
  }
  if (password_changed && !created) {
    ctx.sessions.revoke_user(u.name);
    ctx.hub.revoke({}, u.name);
  }
  json::value out = user_json(u);
  std::string name = u.name;
  ctx.users.upsert(std::move(u));
  ctx.backend.users_changed(ctx.users);
  log::info("api: user '", name, "' ", created ? "created" : "updated", " by ", actor);
  ctx.reply_json(req, created ? 201 : 200, out);
}

// Creates (no name) or updates a user from the body; a plain password is hashed on the worker.
inline handled write(call& c, std::optional<std::string> name) {
  context& ctx = c.ctx;
  auto body = ctx.parse_body(c.req);
  if (!body) return ctx.body_error(c.req, body.err());
  user u;
  if (name) {
    u = *ctx.users.find(*name);
  } else {
    const json::value* n = body->find("username");
    if (!n || !n->is_string() || !valid_user_name(n->as_string()))
      return c.error(400, "\"username\" is required (letters, digits, _ - . @; up to 64)");
    if (ctx.users.find(n->as_string())) return c.error(409, "User '" + n->as_string() + "' already exists");
    u.name = n->as_string();
  }
  auto str = [&](const char* key, std::string& out) -> bool {
    const json::value* v = body->find(key);
    if (!v) return true;
    if (!v->is_string() || v->as_string().size() > 1024) return false;
    out = v->as_string();
    return true;
  };
  if (!str("full_name", u.full_name)) return c.error(400, "\"full_name\" must be a string");
  if (!str("avatar", u.avatar)) return c.error(400, "\"avatar\" must be a string");
  if (const json::value* a = body->find("admin")) {
    if (!a->is_bool()) return c.error(400, "\"admin\" must be true or false");
    if (name && c.p.who && c.p.who->name == *name && !a->as_bool())
      return c.error(409, "you cannot remove your own admin flag");
    u.admin = a->as_bool();
  }
  if (const json::value* ch = body->find("notification_channels")) {
    std::vector<std::string> channels;
    if (!ch->is_array()) return c.error(400, "\"notification_channels\" must be a list of strings");
    for (const auto& x : ch->as_array()) {
      if (!x.is_string()) return c.error(400, "\"notification_channels\" must be a list of strings");
      channels.push_back(x.as_string());
    }
    u.notification_channels = std::move(channels);
  }
  std::string plain;
  const json::value* pw = body->find("password");
  const json::value* ph = body->find("password_hash");
  if (pw) {
    if (!pw->is_string() || pw->as_string().size() < 8 || pw->as_string().size() > 4096)
      return c.error(400, "\"password\" must be a string of 8 to 4096 characters");
    plain = pw->as_string();
  } else if (ph) {
    if (!ph->is_string() || !parse_password_hash(ph->as_string()).valid())
      return c.error(400, "\"password_hash\" must be a pbkdf2:sha256:<iterations>$<salt>$<hash> string");
    u.password = ph->as_string();
  } else if (!name) {
    return c.error(400, "\"password\" is required for a new user");
  }
  bool created = !name;
  std::string actor = who(c.p);
  if (plain.empty()) {
    store_user(ctx, c.req, std::move(u), created, actor, false);
    return restinio::request_accepted();
  }
  bool queued = ctx.worker.submit(
      ctx.alive, [plain = std::move(plain)]() { return hash_password(plain); },
      [&ctx, req = c.req, u, created, actor](result<std::string> h) mutable {
        if (!h) {
          ctx.reply_error(req, 500, h.err().message);
          return;
        }
        u.password = std::move(*h);
        store_user(ctx, req, std::move(u), created, actor, true);
      });
  if (!queued) return c.error(503, "busy; retry shortly", {{"Retry-After", "1"}});
  return restinio::request_accepted();
}

// POST /api/0/users: 201 with the new user.
inline handled create(call& c) { return write(c, std::nullopt); }

// GET /api/0/users/{u}.
inline handled get(call& c) {
  const user* u = c.ctx.users.find(c.param("name"));
  if (!u) return c.error(404, "User '" + c.param("name") + "' not found");
  return c.json(200, user_json(*u));
}

// PUT /api/0/users/{u}: changes the given fields; a new password revokes the user's sessions.
inline handled update(call& c) {
  std::string name = c.param("name");
  if (!c.ctx.users.find(name)) return c.error(404, "User '" + name + "' not found");
  return write(c, name);
}

// DELETE /api/0/users/{u}: not yourself, not the last admin (409); revokes every session of the user.
inline handled remove(call& c) {
  context& ctx = c.ctx;
  std::string name = c.param("name");
  const user* u = ctx.users.find(name);
  if (!u) return c.error(404, "User '" + name + "' not found");
  if (c.p.who && c.p.who->name == name) return c.error(409, "you cannot delete your own account");
  std::size_t admins = 0;
  for (const auto& [n, x] : ctx.users.all()) admins += x.admin;
  if (u->admin && admins == 1) return c.error(409, "cannot delete the last admin");
  ctx.users.erase(name);
  ctx.sessions.revoke_user(name);
  ctx.hub.revoke({}, name);
  ctx.backend.users_changed(ctx.users);
  log::info("api: user '", name, "' deleted by ", who(c.p));
  return c.json(200, json::value::object({{"status", "deleted"}, {"username", name}}));
}

// Any other method on /api/0/users/{u}: 404 for an unknown user, else 405.
inline handled method_not_allowed(call& c) {
  std::string name = c.param("name");
  if (!c.ctx.users.find(name)) return c.error(404, "User '" + name + "' not found");
  return c.error(405, "use GET, PUT or DELETE");
}

}  // namespace heartbeat::api::handlers::users
