// libcurl for the notifier's worker thread: one blocking HTTPS POST or SMTP
// submission per call, each with a timeout, classified into success,
// recoverable or fatal. The only user of libcurl in Heartbeat.
#pragma once

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "heartbeat/notify/notifier.hpp"

namespace heartbeat::notify::detail {

// curl_global_init is not thread-safe: done once, before the worker starts.
inline void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct tls_options {
  bool verify = true;
  std::string ca_file;
};

struct http_request {
  std::string url;
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  double timeout = 10;
  tls_options tls;
};

struct http_response {
  long status = 0;
  std::string body;
};

struct curl_handle {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  curl_slist* rcpt = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_handle() {
    if (h) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  }
  ~curl_handle() {
    if (headers) curl_slist_free_all(headers);
    if (rcpt) curl_slist_free_all(rcpt);
    if (h) curl_easy_cleanup(h);
  }
  curl_handle(const curl_handle&) = delete;
  curl_handle& operator=(const curl_handle&) = delete;

  std::string describe(CURLcode rc) const {
    std::string e = curl_easy_strerror(rc);
    if (errbuf[0]) e += std::string(": ") + errbuf;
    return e;
  }
};

inline std::size_t append_body(char* p, std::size_t size, std::size_t n, void* ud) {
  auto* out = static_cast<std::string*>(ud);
  if (out->size() < 65536) out->append(p, std::min(size * n, 65536 - out->size()));
  return size * n;
}

// Errors that no retry will fix.
inline bool fatal_curl_error(CURLcode rc) {
  switch (rc) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_LOGIN_DENIED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_NOT_BUILT_IN: return true;
    default: return false;
  }
}

inline void set_common(curl_handle& c, double timeout, const tls_options& tls) {
  long ms = static_cast<long>(timeout * 1000);
  curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS, ms);
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYPEER, tls.verify ? 1L : 0L);
  curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYHOST, tls.verify ? 2L : 0L);
  if (!tls.ca_file.empty()) curl_easy_setopt(c.h, CURLOPT_CAINFO, tls.ca_file.c_str());
}

// POSTs `body`; the response status decides: 2xx ok, 408/425/429/5xx retry, other 4xx fatal.
inline send_status http_post(const http_request& r, http_response* out = nullptr) {
  curl_handle c;
  if (!c.h) return send_status::retry("curl_easy_init failed");
  http_response resp;
  curl_easy_setopt(c.h, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.h, CURLOPT_POST, 1L);
  curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, r.body.c_str());
  curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE, static_cast<long>(r.body.size()));
  for (const auto& h : r.headers) c.headers = curl_slist_append(c.headers, h.c_str());
  c.headers = curl_slist_append(c.headers, "Expect:");
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
  curl_easy_setopt(c.h, CURLOPT_USERAGENT, "heartbeat-hbd");
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &resp.body);
  set_common(c, r.timeout, r.tls);
  CURLcode rc = curl_easy_perform(c.h);
  if (rc != CURLE_OK) {
    std::string e = c.describe(rc);
    return fatal_curl_error(rc) ? send_status::fatal(e) : send_status::retry(e);
  }
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &resp.status);
  if (out) *out = resp;
  if (resp.status >= 200 && resp.status < 300) return send_status::success();
  std::string e = "HTTP " + std::to_string(resp.status);
  if (!resp.body.empty()) e += ": " + resp.body.substr(0, 200);
  if (resp.status == 408 || resp.status == 425 || resp.status == 429 || resp.status >= 500)
    return send_status::retry(e);
  return send_status::fatal(e);
}

inline std::string url_encode(std::string_view s) {
  std::string out;
  static const char hex[] = "0123456789ABCDEF";
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
      out.push_back(static_cast<char>(ch));
    else {
      out.push_back('%');
      out.push_back(hex[ch >> 4]);
      out.push_back(hex[ch & 15]);
    }
  }
  return out;
}

struct smtp_request {
  std::string host;
  int port = 25;
  std::string tls = "starttls";  // starttls | tls | none
  std::string username;
  std::string password;
  std::string from;
  std::vector<std::string> to;
  std::string payload;  // the complete RFC 5322 message with CRLF line ends
  double timeout = 10;
  tls_options tls_opts;
};

struct upload_state {
  const std::string* data;
  std::size_t pos = 0;
};

inline std::size_t read_payload(char* p, std::size_t size, std::size_t n, void* ud) {
  auto* st = static_cast<upload_state*>(ud);
  std::size_t left = st->data->size() - st->pos;
  std::size_t k = std::min(left, size * n);
  std::memcpy(p, st->data->data() + st->pos, k);
  st->pos += k;
  return k;
}

inline send_status smtp_send(const smtp_request& r) {
  if (r.to.empty()) return send_status::fatal("no recipient address");
  curl_handle c;
  if (!c.h) return send_status::retry("curl_easy_init failed");
  std::string url = (r.tls == "tls" ? "smtps://" : "smtp://") + r.host + ":" + std::to_string(r.port);
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (r.tls == "starttls") curl_easy_setopt(c.h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!r.username.empty()) {
    curl_easy_setopt(c.h, CURLOPT_USERNAME, r.username.c_str());
    curl_easy_setopt(c.h, CURLOPT_PASSWORD, r.password.c_str());
  }
  std::string mail_from = "<" + r.from + ">";
  curl_easy_setopt(c.h, CURLOPT_MAIL_FROM, mail_from.c_str());
  for (const auto& t : r.to) c.rcpt = curl_slist_append(c.rcpt, ("<" + t + ">").c_str());
  curl_easy_setopt(c.h, CURLOPT_MAIL_RCPT, c.rcpt);
  upload_state st{&r.payload};
  curl_easy_setopt(c.h, CURLOPT_READFUNCTION, read_payload);
  curl_easy_setopt(c.h, CURLOPT_READDATA, &st);
  curl_easy_setopt(c.h, CURLOPT_UPLOAD, 1L);
  set_common(c, r.timeout, r.tls_opts);
  CURLcode rc = curl_easy_perform(c.h);
  if (rc == CURLE_OK) return send_status::success();
  std::string e = c.describe(rc);
  long code = 0;
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 500 && code < 600) return send_status::fatal(e + " (SMTP " + std::to_string(code) + ")");
  return fatal_curl_error(rc) ? send_status::fatal(e) : send_status::retry(e);
}

}  // namespace heartbeat::notify::detail
