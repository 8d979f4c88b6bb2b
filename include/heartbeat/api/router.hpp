// How a row of the route table (routes.hpp) becomes a RESTinio express route: the method sets,
// the path matching, the "who may call" check that runs before every handler, and the canned
// answers (fixed errors, CORS preflight). Built once when the server starts; used on the io thread.
#pragma once

#include <restinio/all.hpp>
#include <restinio/router/express.hpp>

#include <cctype>
#include <cstdint>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>

#include "heartbeat/api/auth.hpp"
#include "heartbeat/api/request.hpp"
#include "heartbeat/core/enum_names.hpp"

namespace heartbeat::api {

// Who may call a route, checked in this order before its handler runs.
enum class allow : std::uint8_t {
  anyone,   // no session needed
  page,     // a session; a browser without one is sent to /login?next=<path> (302)
  user,     // a session: 401 {"error":"authentication required"} without one
  monitor,  // a session and a role on {host}: 404 "Host '<h>' not found" without one (no hint that it exists)
  manager,  // ... and at least the manager role on {host}: 403 otherwise
  owner,    // ... and the owner role on {host} (the admin flag is owner everywhere): 403 otherwise
  admin,    // a session with the admin flag: 403 otherwise
};

inline constexpr enum_names<allow::admin> allow_names{
    {"anyone", "page", "user", "monitor", "manager", "owner", "admin"}, "unknown"};

inline const char* to_string(allow a) noexcept { return allow_names[a]; }

inline constexpr restinio::http_method_id_t GET = restinio::http_method_get();
inline constexpr restinio::http_method_id_t HEAD = restinio::http_method_head();
inline constexpr restinio::http_method_id_t POST = restinio::http_method_post();
inline constexpr restinio::http_method_id_t PUT = restinio::http_method_put();
inline constexpr restinio::http_method_id_t DELETE = restinio::http_method_delete();
inline constexpr restinio::http_method_id_t OPTIONS = restinio::http_method_options();

template <class... M>
auto any_of(M... m) {
  return restinio::router::any_of_methods(m...);
}
template <class... M>
auto other_than(M... m) {
  return restinio::router::none_of_methods(m...);
}
struct any_method_matcher final : restinio::router::method_matcher_t {
  bool match(const restinio::http_method_id_t&) const noexcept override { return true; }
};
inline any_method_matcher any_method() { return {}; }

namespace detail {

// std::regex as RESTinio's default engine, with three differences. Two keep the API's old answers:
// trailing slashes are ignored ("/api/0/hosts//" is "/api/0/hosts"; "/" stays "/"), and patterns
// (anchored at both ends) are tried with regex_match. One keeps a long table cheap: each pattern's
// literal beginning ("/api/0/hosts/") is compared before the regex runs, so a request costs
// std::regex only for the rows it could match.
struct path_engine : restinio::router::std_regex_engine_t {
  struct compiled_regex_t {
    std::regex re;
    std::string prefix;
    bool literal = false;  // the whole pattern is `prefix`: no regex needed
  };

  static compiled_regex_t compile_regex(restinio::string_view_t r, bool case_sensitive) {
    compiled_regex_t c{std_regex_engine_t::compile_regex(r, case_sensitive), {}, false};
    if (case_sensitive) c.prefix = literal_prefix(r, &c.literal);
    return c;
  }

  static bool try_match(restinio::string_view_t path, const compiled_regex_t& r, match_results_t& out) {
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    if (path.substr(0, r.prefix.size()) != r.prefix) return false;
    if (r.literal) {
      if (path.size() != r.prefix.size()) return false;
      out.emplace_back(0, path.size());
      return true;
    }
    std::cmatch m;
    if (!std::regex_match(path.data(), path.data() + path.size(), m, r.re)) return false;
    for (const auto& s : m)
      out.emplace_back(static_cast<std::size_t>(s.first - path.data()),
                       static_cast<std::size_t>(s.second - path.data()));
    return true;
  }

  // The text every match starts with: the characters after '^' up to the first group, class,
  // quantified character or other operator ("" when the pattern has a top-level alternative).
  // `*whole` tells whether only the closing '$' follows.
  static std::string literal_prefix(restinio::string_view_t r, bool* whole = nullptr) {
    if (whole) *whole = false;
    auto special = [](char c) {
      return std::string_view("^$.|?*+()[]{}\\").find(c) != std::string_view::npos;
    };
    int depth = 0;
    bool escaped = false, in_class = false;
    for (char c : r) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (in_class)
        in_class = c != ']';
      else if (c == '[')
        in_class = true;
      else if (c == '(' || c == ')')
        depth += c == '(' ? 1 : -1;
      else if (c == '|' && depth == 0)
        return {};
    }
    std::string prefix;
    std::size_t i = !r.empty() && r[0] == '^' ? 1 : 0;
    while (i < r.size()) {
      char lit;
      std::size_t next;
      if (r[i] == '\\' && i + 1 < r.size() && !std::isalnum(static_cast<unsigned char>(r[i + 1]))) {
        lit = r[i + 1];
        next = i + 2;
      } else if (!special(r[i])) {
        lit = r[i];
        next = i + 1;
      } else {
        break;
      }
      if (next < r.size() && std::string_view("?*+{").find(r[next]) != std::string_view::npos) break;
      prefix += lit;
      i = next;
    }
    if (whole) *whole = r.substr(i) == "$";
    return prefix;
  }
};

}  // namespace detail

using express_router = restinio::router::express_router_t<detail::path_engine>;

// Adds rows to one express router. `api` rows (under /api/0) also refuse cross-site writes: a
// request other than GET, HEAD and OPTIONS from a session needs an allowed Origin (or none) and,
// when the session came in a cookie, the session's X-CSRF-Token header (403).
class route_table {
 public:
  route_table(context& ctx, express_router& router) : ctx_(ctx), router_(router) {}

  template <class Method>
  void web(Method m, std::string_view path, allow who, handler h) {
    add(std::move(m), path, who, nullptr, false, false, std::move(h));
  }
  template <class Method>
  void api(Method m, std::string_view path, allow who, handler h) {
    add(std::move(m), path, who, nullptr, true, false, std::move(h));
  }
  // A row whose refusal (403) names what was refused: "<action> needs the owner role on this host".
  template <class Method>
  void api(Method m, std::string_view path, allow who, const char* action, handler h) {
    add(std::move(m), path, who, action, true, false, std::move(h));
  }
  // A WebSocket handshake: any method; the session may also come as ?token=.
  void upgrade(std::string_view path, allow who, handler h) {
    add(any_method(), path, who, nullptr, false, true, std::move(h));
  }
  // What no row matched.
  void otherwise(handler h) {
    router_.non_matched_request_handler([&ctx = ctx_, h = std::move(h)](request_handle req) {
      call c{ctx, std::move(req), {}, {}, {}, role::none};
      return h(c);
    });
  }

 private:
  template <class Method>
  void add(Method m, std::string_view path, allow who, const char* action, bool api, bool query_token,
           handler h) {
    // Case-sensitive, and no optional trailing slash in the pattern: path_engine drops them all.
    auto options = restinio::path2regex::options_t{}.sensitive(true).strict(true);
    router_.add_handler(std::move(m), path, options,
                        [&ctx = ctx_, who, action, api, query_token, h = std::move(h)](
                            request_handle req, restinio::router::route_params_t params) {
                          call c{ctx, std::move(req), std::move(params), {}, {}, role::none};
                          if (auto refused = admit(c, who, action, api, query_token)) return *refused;
                          return h(c);
                        });
  }

  // The "who may call" check of one row; an answer when the caller is refused.
  static std::optional<handled> admit(call& c, allow who, const char* action, bool api, bool query_token) {
    if (who == allow::anyone) return std::nullopt;
    context& ctx = c.ctx;
    c.p = ctx.authenticate(c.req, query_token);
    if (!authenticated(c.p)) {
      if (who != allow::page) return ctx.reply_error(c.req, 401, "authentication required");
      std::string target(c.req->header().path());
      return ctx.redirect(c.req, "/login?next=" + restinio::utils::escape_percent_encoding(target));
    }
    if (api && is_write_method(c.req->header().method().c_str()) && !c.p.open) {
      if (!ctx.origin_ok(c.req)) return ctx.reply_error(c.req, 403, "cross-origin request not allowed");
      if (c.p.via_cookie && !csrf_ok(*c.p.sess, c.req->header().get_field_or("X-CSRF-Token", "")))
        return ctx.reply_error(c.req, 403, "missing or wrong X-CSRF-Token header");
    }
    if (who == allow::admin && !ctx.is_admin(c.p))
      return ctx.reply_error(c.req, 403, std::string(action ? action : "this") + " needs the admin flag");
    if (who == allow::monitor || who == allow::manager || who == allow::owner) {
      c.host = c.param("host");
      if (ctx.backend.has_host(c.host)) c.on_host = ctx.role_of(c.p, c.host);
      if (c.on_host == role::none) return ctx.reply_error(c.req, 404, "Host '" + c.host + "' not found");
      role want = who == allow::owner ? role::owner : who == allow::manager ? role::manager : role::monitor;
      if (c.on_host < want)
        return ctx.reply_error(
            c.req, 403,
            std::string(action ? action : "this") + " needs the " + to_string(want) + " role on this host");
    }
    return std::nullopt;
  }

  context& ctx_;
  express_router& router_;
};

// A fixed error answer, e.g. answer(405, "use GET").
inline handler answer(int status, std::string message) {
  return [status, message = std::move(message)](call& c) { return c.error(status, message); };
}

// OPTIONS on any path: the CORS preflight for an allowed Origin (204 with the Access-Control-*
// headers), else 403.
inline handled cors_preflight(call& c) {
  auto hs = c.ctx.cors.headers(c.req->header().get_field_or("Origin", ""), true);
  if (hs.empty()) return c.error(403, "CORS origin not allowed");
  c.ctx.count(204);
  auto r = c.req->create_response(restinio::status_no_content());
  for (const auto& [k, v] : hs) r.append_header(k, v);
  r.done();
  return restinio::request_accepted();
}

}  // namespace heartbeat::api
