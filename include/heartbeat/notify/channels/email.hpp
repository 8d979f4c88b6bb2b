// The email channel: one plain-text mail per message through SMTP (STARTTLS,
// implicit TLS or none, optional AUTH) with libcurl; worker thread.
#pragma once

#include <atomic>
#include <ctime>
#include <string>

#include "heartbeat/notify/channels/common.hpp"
#include "heartbeat/notify/detail/hmac.hpp"

namespace heartbeat::notify::channels {

class email {
 public:
  static const notifier_schema& schema() { return schemas::all[0]; }

  explicit email(const json::value& cfg) {
    req_.host = str(cfg, "smtp_host");
    req_.port = static_cast<int>(cfg.number_or("smtp_port", 25));
    req_.tls = str(cfg, "smtp_tls", "starttls");
    req_.username = str(cfg, "username");
    req_.password = str(cfg, "password");
    req_.from = str(cfg, "from");
    req_.timeout = timeout_of(cfg);
    req_.tls_opts = tls_of(cfg);
    to_ = list(cfg, "to");
  }

  send_status notify(const message& m) {
    detail::smtp_request r = req_;
    r.to = to_;
    if (m.user_settings.is_object()) {
      auto l = list(m.user_settings, "to");
      if (!l.empty()) r.to = l;
    }
    r.payload = render(m, r.from, r.to);
    return detail::smtp_send(r);
  }

  // The RFC 5322 message: headers, blank line, body; CRLF line ends. Lines starting with '.' are
  // left as they are: libcurl dot-stuffs the upload itself (RFC 5321 4.5.2), so doing it here too
  // would deliver them with two dots.
  static std::string render(const message& m, const std::string& from, const std::vector<std::string>& to) {
    static std::atomic<unsigned> counter{0};
    std::string to_line;
    for (const auto& t : to) to_line += (to_line.empty() ? "" : ", ") + t;
    char date[64];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    std::string domain = from.substr(from.find('@') == std::string::npos ? from.size() : from.find('@') + 1);
    if (domain.empty()) domain = "heartbeat";
    std::string out;
    out += "Date: " + std::string(date) + "\r\n";
    out += "From: " + from + "\r\n";
    out += "To: " + to_line + "\r\n";
    out += "Subject: " + encode_header(m.title) + "\r\n";
    // The notification's stable id: a copy sent again after a failover has the same Message-ID.
    if (!m.source.id.empty())
      out += "Message-ID: <" + m.source.id + ".hbd@" + domain + ">\r\n";
    else
      out += "Message-ID: <" + std::to_string(now) + "." + std::to_string(counter++) + ".hbd@" + domain +
             ">\r\n";
    out +=
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n";
    out += "X-Heartbeat-Host: " + m.source.host + "\r\n\r\n";
    std::string body = m.body;
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (body[i] == '\n')
        out += "\r\n";
      else if (body[i] != '\r')
        out += body[i];
    }
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    return out;
  }

 private:
  // RFC 2047 for non-ASCII subjects; header line breaks are never passed through.
  static std::string encode_header(const std::string& s) {
    bool ascii = true;
    std::string clean;
    for (char ch : s) {
      if (ch == '\r' || ch == '\n') ch = ' ';
      if (static_cast<unsigned char>(ch) >= 0x80) ascii = false;
      clean += ch;
    }
    if (ascii) return clean;
    return "=?UTF-8?B?" + detail::base64(clean) + "?=";
  }

  detail::smtp_request req_;
  std::vector<std::string> to_;
};

}  // namespace heartbeat::notify::channels
