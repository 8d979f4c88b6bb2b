// One remote write target's HTTP client: libcurl's multi interface driving one reused easy handle
// (keep-alive), so that the sender thread can go on draining its queue while a request is on the
// wire. POSTs a compressed WriteRequest with the protocol's headers and reports the status, the
// Retry-After answer and the start of the body. Sender thread only.
#pragma once

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "heartbeat/core/version.hpp"
#include "heartbeat/remote_write/config.hpp"

namespace heartbeat::remote_write {

struct http_outcome {
  bool transport_ok = false;  // an HTTP answer arrived (else: connection error, timeout, reset)
  long status = 0;
  std::string error;                  // curl's description when !transport_ok
  std::optional<double> retry_after;  // seconds, from a Retry-After header
  std::string body;                   // the first KiB of the answer
};

// Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3); nullopt when unreadable.
inline std::optional<double> parse_retry_after(std::string_view v, std::time_t now) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n'))
    v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return v.size() > 9 ? 1e9 : static_cast<double>(std::strtoll(std::string(v).c_str(), nullptr, 10));
  std::time_t at = curl_getdate(std::string(v).c_str(), nullptr);
  if (at < 0) return std::nullopt;
  return at > now ? static_cast<double>(at - now) : 0.0;
}

class http_client {
 public:
  static constexpr long connect_timeout_ms = 5000;
  static constexpr long request_timeout_ms = 30000;

  explicit http_client(const target_config& t) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl_multi_init();
    easy_ = curl_easy_init();
    headers_ = curl_slist_append(headers_, "Content-Encoding: snappy");
    headers_ = curl_slist_append(headers_, "Content-Type: application/x-protobuf");
    headers_ = curl_slist_append(headers_, "X-Prometheus-Remote-Write-Version: 0.1.0");
    headers_ = curl_slist_append(headers_, "Expect:");  // no 100-continue round trip
    if (!t.bearer_token.empty())
      headers_ = curl_slist_append(headers_, ("Authorization: Bearer " + t.bearer_token).c_str());
    for (const auto& [k, v] : t.headers) headers_ = curl_slist_append(headers_, (k + ": " + v).c_str());
    curl_easy_setopt(easy_, CURLOPT_URL, t.url.c_str());
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(easy_, CURLOPT_USERAGENT,
                     (std::string("heartbeat/") + version).c_str());  // curl copies it
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, request_timeout_ms);
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &http_client::on_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &http_client::on_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    if (!t.username.empty()) {
      curl_easy_setopt(easy_, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(easy_, CURLOPT_USERNAME, t.username.c_str());
      curl_easy_setopt(easy_, CURLOPT_PASSWORD, t.password.c_str());
    }
  }
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;
  ~http_client() {
    abort();
    curl_easy_cleanup(easy_);
    curl_multi_cleanup(multi_);
    curl_slist_free_all(headers_);
  }

  bool busy() const noexcept { return busy_; }

  // Starts a POST of `body`, which must stay unchanged until the request finished.
  void start(std::string_view body) {
    out_ = {};
    errbuf_[0] = 0;
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_multi_add_handle(multi_, easy_);
    busy_ = true;
  }

  // Moves the request on, waiting at most `timeout_ms` for its sockets; true once it finished
  // (the outcome is in outcome()).
  bool poll(int timeout_ms) {
    if (!busy_) return false;
    int running = 0;
    curl_multi_perform(multi_, &running);
    if (running) {
      curl_multi_poll(multi_, nullptr, 0, timeout_ms, nullptr);
      curl_multi_perform(multi_, &running);
    }
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURLcode rc = m->data.result;
      curl_multi_remove_handle(multi_, easy_);
      busy_ = false;
      if (rc == CURLE_OK) {
        out_.transport_ok = true;
        curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &out_.status);
      } else {
        out_.error = curl_easy_strerror(rc);
        if (errbuf_[0]) out_.error += std::string(": ") + errbuf_;
      }
      return true;
    }
    return false;
  }

  const http_outcome& outcome() const noexcept { return out_; }

  // Gives up on a request in flight (stopping).
  void abort() {
    if (!busy_) return;
    curl_multi_remove_handle(multi_, easy_);
    busy_ = false;
  }

 private:
  CURLM* multi_ = nullptr;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE] = {};
  bool busy_ = false;
  http_outcome out_;

  static std::size_t on_body(char* p, std::size_t size, std::size_t n, void* ud) {
    auto* self = static_cast<http_client*>(ud);
    std::string& b = self->out_.body;
    if (b.size() < 1024) b.append(p, std::min(size * n, 1024 - b.size()));
    return size * n;
  }

  static std::size_t on_header(char* p, std::size_t size, std::size_t n, void* ud) {
    auto* self = static_cast<http_client*>(ud);
    std::string_view line(p, size * n);
    constexpr std::string_view name = "retry-after:";
    if (line.size() > name.size() && std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        }))
      self->out_.retry_after = parse_retry_after(line.substr(name.size()), std::time(nullptr));
    return size * n;
  }
};

}  // namespace heartbeat::remote_write
