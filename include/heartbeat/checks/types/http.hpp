// The `http` check: one request (GET, HEAD or POST) through libcurl's multi interface on the io
// thread, a fresh connection each run; passes on an expected status (any 2xx or 3xx by default)
// and, when asked, a body matching a regular expression. Names resolve through the checks'
// resolver and reach curl as CURLOPT_RESOLVE, so curl starts no resolver thread.
#pragma once

#include <curl/curl.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "heartbeat/checks/detail/read.hpp"
#include "heartbeat/checks/result.hpp"
#include "heartbeat/checks/runtime.hpp"
#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/version.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::checks {

struct http_check {
  static constexpr std::string_view type_name = "http";
  static constexpr std::size_t max_body = 1 << 20;  // bytes of the answer kept for expect_body

  std::string url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<int> expect_status;  // empty: any 2xx or 3xx
  std::string expect_body;         // the pattern as written
  std::shared_ptr<const std::regex> body_re;
  bool insecure = false;
  std::string ca_file;

  // Reads the type's keys from the check's mapping (common keys are read by the caller).
  static std::optional<http_check> read(config::object_reader& r) {
    http_check c;
    auto& d = r.diag();
    const std::size_t errors = d.items.size();
    r.get("url", c.url);
    if (c.url.empty())
      d.error(r.key_path("url"), "is required (http:// or https://)");
    else if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0)
      d.error(r.key_path("url"), "must start with http:// or https://");
    r.get_enum("method", c.method, {"GET", "HEAD", "POST"});
    if (const json::value* h = r.raw("headers")) {
      if (!h->is_object())
        d.error(r.key_path("headers"), "must be a mapping of header names to values");
      else
        for (const auto& [k, v] : h->as_object()) {
          if (!v.is_string() || k.empty() || k.find_first_of(":\r\n") != std::string::npos ||
              v.as_string().find_first_of("\r\n") != std::string::npos)
            d.error(r.key_path("headers") + "." + k, "must be a one-line string");
          else
            c.headers.emplace_back(k, v.as_string());
        }
    }
    r.get("body", c.body);
    if (!c.body.empty() && c.method != "POST") d.error(r.key_path("body"), "needs method: POST");
    if (const json::value* s = r.raw("expect_status")) {
      auto one = [&](const json::value& v, const std::string& path) {
        if (!v.is_number() || v.as_number() != static_cast<int>(v.as_number()) || v.as_number() < 100 ||
            v.as_number() > 599)
          d.error(path, "must be an HTTP status code (100..599)");
        else
          c.expect_status.push_back(static_cast<int>(v.as_number()));
      };
      if (s->is_array()) {
        std::size_t i = 0;
        for (const auto& v : s->as_array()) one(v, r.key_path("expect_status") + "." + std::to_string(i++));
      } else {
        one(*s, r.key_path("expect_status"));
      }
    }
    r.get("expect_body", c.expect_body);
    if (!c.expect_body.empty()) {
      try {
        c.body_re = std::make_shared<const std::regex>(c.expect_body, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        d.error(r.key_path("expect_body"), std::string("is not a valid regular expression: ") + e.what());
      }
    }
    r.get("insecure", c.insecure);
    r.get("ca_file", c.ca_file);
    detail::readable_file(r, "ca_file", c.ca_file);
    if (detail::errors_since(d, errors)) return std::nullopt;
    return c;
  }

  // The URL as texts show it: a password in it becomes "***" ("https://bot:***@host/").
  std::string shown_url() const {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    const auto end = url.find_first_of("/?#", scheme + 3);
    const auto at = url.rfind('@', end == std::string::npos ? url.size() : end);
    if (at == std::string::npos || at < scheme) return url;
    const auto colon = url.find(':', scheme + 3);
    if (colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon + 1) + "***" + url.substr(at);
  }

  // "HTTP GET https://shop.example.com/health expecting 200 and a body matching /ok/".
  std::string description() const {
    std::string s = "HTTP " + method + " " + shown_url() + " expecting ";
    if (expect_status.empty()) {
      s += "2xx or 3xx";
    } else {
      for (std::size_t i = 0; i < expect_status.size(); ++i)
        s += (i == 0 ? "" : i + 1 == expect_status.size() ? " or " : ", ") + std::to_string(expect_status[i]);
    }
    if (!expect_body.empty()) s += " and a body matching /" + expect_body + "/";
    if (insecure) s += " (certificate not verified)";
    return s;
  }

  net::awaitable<check_result> run(run_context ctx) const {
    check_result res;
    std::string host;
    long port = 0;
    if (!split_url(host, port)) co_return check_result::failed("malformed URL " + shown_url());
    auto addrs = co_await ctx.rt->resolver.resolve(host, ctx.timeout);
    if (!addrs) co_return check_result::failed(addrs.err().message);

    auto multi = ctx.rt->http;
    auto cleanup = [multi](CURL* e) {
      multi->abandon(e);
      curl_easy_cleanup(e);
    };
    std::unique_ptr<CURL, decltype(cleanup)> easy(curl_easy_init(), cleanup);
    if (!easy) co_return check_result::failed("libcurl could not start a transfer");
    auto slist_free = [](curl_slist* l) { curl_slist_free_all(l); };
    std::unique_ptr<curl_slist, decltype(slist_free)> hdrs(nullptr, slist_free), resolve(nullptr, slist_free);
    std::string resolve_entry = host + ":" + std::to_string(port) + ":";
    for (std::size_t i = 0; i < addrs->size(); ++i) {
      const auto& a = (*addrs)[i];
      resolve_entry += (i ? "," : "") + (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string());
    }
    resolve.reset(curl_slist_append(nullptr, resolve_entry.c_str()));
    for (const auto& [k, v] : headers) hdrs.reset(curl_slist_append(hdrs.release(), (k + ": " + v).c_str()));

    struct sink {
      std::string body;
      bool capped = false;
    } out;
    char errbuf[CURL_ERROR_SIZE] = {0};
    CURL* e = easy.get();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(ctx.timeout.count()));
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");  // a check looks at the target itself, not through *_proxy
    curl_easy_setopt(e, CURLOPT_RESOLVE, resolve.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_USERAGENT, ("heartbeat-check/" + std::string(heartbeat::version)).c_str());
    if (hdrs) curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs.get());
    if (method == "HEAD") curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    if (method == "POST") {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
    }
    if (insecure) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!ca_file.empty()) {
      // Trusted besides the system's CAs: the file, plus OpenSSL's default certificate directory.
      curl_easy_setopt(e, CURLOPT_CAINFO, ca_file.c_str());
      curl_easy_setopt(e, CURLOPT_CAPATH, default_ca_dir());
    }
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(
        e, CURLOPT_WRITEFUNCTION, +[](char* p, size_t sz, size_t n, void* ud) -> size_t {
          auto* s = static_cast<sink*>(ud);
          const size_t len = sz * n;
          if (s->body.size() + len > max_body) {
            s->body.append(p, max_body - s->body.size());
            s->capped = true;
            return 0;  // enough read: ends the transfer
          }
          s->body.append(p, len);
          return len;
        });

    CURLcode rc = co_await detail::perform(multi, e);
    curl_off_t total_us = 0;
    if (curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK && total_us > 0)
      res.response_ms = static_cast<double>(total_us) / 1000.0;
    if (rc == CURLE_WRITE_ERROR && out.capped) rc = CURLE_OK;
    if (rc != CURLE_OK) {
      long os_errno = 0;
      curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
      res.error = describe(rc, errbuf, os_errno, host, port, ctx);
      co_return res;
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    res.metrics.set("status_code", static_cast<double>(status));
    bool status_ok = expect_status.empty() ? status >= 200 && status < 400 : false;
    for (int s : expect_status) status_ok = status_ok || s == status;
    if (!status_ok) {
      res.error = "HTTP " + std::to_string(status) + " from " + shown_url();
      co_return res;
    }
    if (body_re && !std::regex_search(out.body, *body_re)) {
      res.error = "body of " + shown_url() + " does not match /" + expect_body + "/";
      co_return res;
    }
    res.outcome = outcome::pass;
    co_return res;
  }

 private:
  static const char* default_ca_dir() {
    static const std::string dir = [] {
      const char* env = std::getenv("SSL_CERT_DIR");
      return std::string(env && *env ? env : "/etc/ssl/certs");
    }();
    return dir.c_str();
  }

  bool split_url(std::string& host, long& port) const {
    CURLU* u = curl_url();
    if (!u) return false;
    bool ok = curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK;
    char* h = nullptr;
    char* p = nullptr;
    ok = ok && curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
         curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK;
    if (ok) {
      host = h;
      if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
      port = std::strtol(p, nullptr, 10);
    }
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return ok && !host.empty() && port > 0;
  }

  std::string describe(CURLcode rc, const char* errbuf, long os_errno, const std::string& host, long port,
                       const run_context& ctx) const {
    const std::string where = detail::host_port(host, static_cast<unsigned>(port));
    std::string msg = errbuf && *errbuf ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    for (const char* prefix : {"SSL certificate problem: ", "SSL: "})
      if (msg.rfind(prefix, 0) == 0) msg = msg.substr(std::strlen(prefix));
    switch (rc) {
      case CURLE_COULDNT_CONNECT:
        return "connect to " + where + ": " +
               (os_errno ? lower_first(std::strerror(static_cast<int>(os_errno))) : std::string("failed"));
      case CURLE_OPERATION_TIMEDOUT:
        return "no answer from " + shown_url() + " within " + seconds_words(ctx.timeout.count() / 1000.0);
      case CURLE_PEER_FAILED_VERIFICATION: return "certificate of " + where + " not trusted: " + msg;
      case CURLE_SSL_CONNECT_ERROR: return "TLS handshake with " + where + " failed: " + msg;
      case CURLE_GOT_NOTHING: return "no HTTP answer from " + shown_url() + " (connection closed)";
      case CURLE_RECV_ERROR:
      case CURLE_SEND_ERROR: return "connection to " + where + " broken: " + msg;
      default: return shown_url() + ": " + lower_first(msg);
    }
  }
};

}  // namespace heartbeat::checks
