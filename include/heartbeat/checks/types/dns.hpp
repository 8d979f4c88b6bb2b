// The `dns` check: asks a server (or the system's resolvers) for one name's records of one type
// through c-ares on the io thread; passes when the server answers with records and, with
// `expect`, every expected value is among them. The answers are the run's `answers` metric.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "heartbeat/checks/detail/ares.hpp"
#include "heartbeat/checks/detail/read.hpp"
#include "heartbeat/checks/result.hpp"
#include "heartbeat/checks/runtime.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::checks {

struct dns_check {
  static constexpr std::string_view type_name = "dns";

  std::string server;  // empty: the system's resolvers (/etc/resolv.conf)
  unsigned port = 53;
  std::string query;
  std::string record = "A";
  detail::rr_type type = detail::rr_type::a;
  std::vector<std::string> expect;

  static std::optional<dns_check> read(config::object_reader& r) {
    dns_check c;
    auto& d = r.diag();
    const std::size_t before = d.items.size();
    r.get("server", c.server);
    r.get("port", c.port, 1, 65535);
    r.get("query", c.query);
    if (c.query.empty()) d.error(r.key_path("query"), "is required (the name to look up)");
    r.get_enum("record", c.record, {"A", "AAAA", "CNAME", "MX", "NS", "TXT"});
    for (auto t : {detail::rr_type::a, detail::rr_type::aaaa, detail::rr_type::cname, detail::rr_type::mx,
                   detail::rr_type::ns, detail::rr_type::txt})
      if (c.record == detail::to_string(t)) c.type = t;
    r.get("expect", c.expect);
    if (detail::errors_since(d, before)) return std::nullopt;
    return c;
  }

  std::string description() const {
    std::string s =
        "DNS " + record + " " + query + (server.empty() ? "" : " at " + detail::host_port(server, port));
    if (!expect.empty()) {
      s += " expecting ";
      for (std::size_t i = 0; i < expect.size(); ++i) s += (i ? ", " : "") + expect[i];
    }
    return s;
  }

  net::awaitable<check_result> run(run_context ctx) const {
    check_result res;
    const double t0 = clock::mono_now();
    std::string addr;
    if (!server.empty()) {
      auto addrs = co_await ctx.rt->resolver.resolve(server, ctx.timeout);
      if (!addrs) co_return check_result::failed(addrs.err().message);
      addr = addrs->front().to_string();
    }
    const std::string at =
        server.empty() ? std::string("the system's resolvers") : detail::host_port(server, port);
    const std::string what = query + " " + record;
    auto ans = co_await detail::ares_query_records(addr, port, query, type, ctx.timeout);
    res.response_ms = (clock::mono_now() - t0) * 1000.0;
    json::value answers = json::value::array();
    for (const auto& a : ans.records) answers.push_back(a);
    res.metrics.set("answers", std::move(answers));
    switch (ans.status) {
      case ARES_SUCCESS: break;
      case ARES_ENOTFOUND: co_return check_result::failed(what + " at " + at + ": NXDOMAIN (no such name)");
      case ARES_ENODATA: co_return check_result::failed(what + " at " + at + ": no " + record + " records");
      case ARES_ETIMEOUT:
        co_return check_result::failed("no answer from " + at + " within " +
                                       seconds_words(ctx.timeout.count() / 1000.0));
      case ARES_ESERVFAIL: co_return check_result::failed(what + " at " + at + ": SERVFAIL");
      case ARES_EREFUSED: co_return check_result::failed(what + " at " + at + ": REFUSED");
      case ARES_ECONNREFUSED: co_return check_result::failed("query to " + at + ": connection refused");
      default:
        co_return check_result::failed(what + " at " + at + ": " + lower_first(ares_strerror(ans.status)));
    }
    res.metrics.set("answer_count", static_cast<double>(ans.records.size()));
    std::vector<std::string> missing;
    for (const auto& e : expect)
      if (std::find_if(ans.records.begin(), ans.records.end(),
                       [&](const std::string& a) { return same_name(a, e); }) == ans.records.end())
        missing.push_back(e);
    if (!missing.empty()) {
      std::string got, want;
      for (std::size_t i = 0; i < ans.records.size(); ++i) got += (i ? ", " : "") + ans.records[i];
      for (std::size_t i = 0; i < missing.size(); ++i) want += (i ? ", " : "") + missing[i];
      res.error = what + " at " + at + ": got " + got + ", expected " + want;
      co_return res;
    }
    res.outcome = outcome::pass;
    co_return res;
  }

 private:
  // Names compare without case and without a trailing dot; addresses as written.
  static bool same_name(std::string_view a, std::string_view b) {
    asio::error_code ea, eb;
    auto ia = asio::ip::make_address(std::string(a), ea);
    auto ib = asio::ip::make_address(std::string(b), eb);
    if (!ea && !eb) return ia == ib;
    auto trim = [](std::string_view s) {
      return !s.empty() && s.back() == '.' ? s.substr(0, s.size() - 1) : s;
    };
    a = trim(a);
    b = trim(b);
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char x = a[i], y = b[i];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
      if (x != y) return false;
    }
    return true;
  }
};

}  // namespace heartbeat::checks
