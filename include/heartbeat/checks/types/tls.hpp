// The `tls` check: a TLS handshake with address:port (SNI set to the name) through OpenSSL by way
// of asio::ssl on the io thread; the chain is verified against the system store plus `ca_file`
// and the name, and the leaf certificate's expiry gives days_left: WARNING within warn_days,
// a failure within critical_days. (asio/ssl.hpp is included here, not in net/asio.hpp, so that
// hbc never sees OpenSSL's headers.)
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <asio/ssl.hpp>

#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "heartbeat/checks/detail/read.hpp"
#include "heartbeat/checks/result.hpp"
#include "heartbeat/checks/runtime.hpp"
#include "heartbeat/checks/types/tcp.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::checks {

struct tls_check {
  static constexpr std::string_view type_name = "tls";

  std::string address;
  unsigned port = 443;
  double warn_days = 21;
  double critical_days = 7;
  bool insecure = false;
  std::string ca_file;
  // The OpenSSL context (system store + ca_file), made at the first run and shared by copies.
  std::shared_ptr<std::shared_ptr<asio::ssl::context>> ctx_ =
      std::make_shared<std::shared_ptr<asio::ssl::context>>();

  static std::optional<tls_check> read(config::object_reader& r) {
    tls_check c;
    auto& d = r.diag();
    const std::size_t before = d.items.size();
    detail::address_port(r, c.address, c.port, 443);
    r.get("warn_days", c.warn_days, 0, 36500);
    r.get("critical_days", c.critical_days, 0, 36500);
    if (c.critical_days > c.warn_days)
      d.error(r.key_path("critical_days"),
              "must not be above warn_days (" + json::value(c.warn_days).dump() + ")");
    r.get("insecure", c.insecure);
    r.get("ca_file", c.ca_file);
    detail::readable_file(r, "ca_file", c.ca_file);
    if (detail::errors_since(d, before)) return std::nullopt;
    return c;
  }

  std::string description() const {
    return "TLS certificate of " + detail::host_port(address, port) + " (warning " +
           json::value(warn_days).dump() + " days, failing " + json::value(critical_days).dump() +
           " days before expiry" + (insecure ? ", chain not verified)" : ")");
  }

  net::awaitable<check_result> run(run_context ctx) const {
    using namespace asio::experimental::awaitable_operators;
    check_result res;
    const std::string where = detail::host_port(address, port);
    const double t0 = clock::mono_now();
    auto addrs = co_await ctx.rt->resolver.resolve(address, ctx.timeout);
    if (!addrs) co_return check_result::failed(addrs.err().message);
    auto ex = co_await asio::this_coro::executor;
    asio::ip::tcp::socket sock(ex);
    if (std::string why = co_await detail::connect_any(sock, *addrs, port, ctx.timeout); !why.empty())
      co_return check_result::failed("connect to " + where + ": " + why);
    std::string err;
    asio::ssl::context& sslctx = context(err);
    if (!err.empty()) co_return check_result::failed(err);
    asio::ssl::stream<asio::ip::tcp::socket&> stream(sock, sslctx);
    SSL* ssl = stream.native_handle();
    asio::error_code ec;
    (void)asio::ip::make_address(address, ec);
    const bool is_ip = !ec;
    if (!is_ip) {
      SSL_set_tlsext_host_name(ssl, address.c_str());
      SSL_set1_host(ssl, address.c_str());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), address.c_str());
    }
    // Verification runs in either mode; VERIFY_NONE lets the handshake finish so that the result
    // and the certificate can be reported in words.
    stream.set_verify_mode(asio::ssl::verify_none);
    const double left = ctx.timeout.count() / 1000.0 - (clock::mono_now() - t0);
    asio::steady_timer t(ex);
    t.expires_after(std::chrono::microseconds(static_cast<long long>(std::max(0.0, left) * 1e6)));
    auto r = co_await (stream.async_handshake(asio::ssl::stream_base::client, net::as_tuple_awaitable) ||
                       t.async_wait(net::as_tuple_awaitable));
    res.response_ms = (clock::mono_now() - t0) * 1000.0;
    if (r.index() == 1)
      co_return check_result::failed("TLS handshake with " + where + ": no answer within " +
                                     seconds_words(ctx.timeout.count() / 1000.0));
    if (auto [hec] = std::get<0>(r); hec)
      co_return check_result::failed("TLS handshake with " + where +
                                     " failed: " + lower_first(hec.message()));
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (!cert) co_return check_result::failed("TLS handshake with " + where + ": no certificate");
    int days = 0, secs = 0;
    const bool diff_ok = ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert)) == 1;
    X509_free(cert);
    const long verify = SSL_get_verify_result(ssl);
    sock.close(ec);
    if (!diff_ok)
      co_return check_result::failed("certificate of " + where + " has an unreadable expiry date");
    const double left_s = static_cast<double>(days) * 86400.0 + secs;
    const double days_left = std::round(left_s / 86400.0);
    res.metrics.set("days_left", days_left);
    if (left_s <= 0) {
      const double ago = std::round(-left_s / 86400.0);
      res.error =
          "certificate of " + where + " expired " +
          (ago < 1 ? std::string("today") : json::value(ago).dump() + (ago == 1 ? " day ago" : " days ago"));
      co_return res;
    }
    if (!insecure && verify != X509_V_OK) {
      res.error = "certificate of " + where + " not trusted: " + X509_verify_cert_error_string(verify);
      co_return res;
    }
    if (days_left <= critical_days || days_left <= warn_days) {
      res.outcome = days_left <= critical_days ? outcome::fail : outcome::warn;
      res.error =
          "certificate expires in " + json::value(days_left).dump() + (days_left == 1 ? " day" : " days");
      co_return res;
    }
    res.outcome = outcome::pass;
    co_return res;
  }

 private:
  asio::ssl::context& context(std::string& err) const {
    auto& c = *ctx_;
    if (!c) {
      c = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
      asio::error_code ec;
      c->set_default_verify_paths(ec);
      if (!ca_file.empty()) {
        c->load_verify_file(ca_file, ec);
        if (ec) {
          err = "ca_file " + ca_file + ": " + ec.message();
          c.reset();
          static asio::ssl::context unused(asio::ssl::context::tls_client);
          return unused;
        }
      }
    }
    return *c;
  }
};

}  // namespace heartbeat::checks
