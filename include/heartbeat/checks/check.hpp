// The check concept (Cabot's status-check plugin): a type has a name, reads its own keys,
// describes itself for people and runs, yielding a check_result. Every type is listed once in
// `any_check`; a configured check (check_def) is its common keys plus one of them. Definitions
// are immutable once read; runs happen on the io thread.
#pragma once

#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "heartbeat/alert/types.hpp"
#include "heartbeat/checks/result.hpp"
#include "heartbeat/checks/runtime.hpp"
#include "heartbeat/checks/types/dns.hpp"
#include "heartbeat/checks/types/http.hpp"
#include "heartbeat/checks/types/icmp.hpp"
#include "heartbeat/checks/types/nagios.hpp"
#include "heartbeat/checks/types/tcp.hpp"
#include "heartbeat/checks/types/tls.hpp"
#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/net/asio.hpp"

namespace heartbeat::checks {

template <class C>
concept check_type = requires(const C& c, config::object_reader& r, run_context ctx) {
  { C::type_name } -> std::convertible_to<std::string_view>;
  { C::read(r) } -> std::same_as<std::optional<C>>;
  { c.description() } -> std::convertible_to<std::string>;
  { c.run(ctx) } -> std::same_as<net::awaitable<check_result>>;
};

// Every check type. Adding one: its header under types/, and its name here.
using any_check = std::variant<http_check, tcp_check, icmp_check, dns_check, tls_check, nagios_check>;

namespace detail {
template <class V>
struct all_check_types;
template <class... T>
struct all_check_types<std::variant<T...>> : std::bool_constant<(check_type<T> && ...)> {};
static_assert(all_check_types<any_check>::value);

template <std::size_t I = 0>
std::optional<any_check> read_type(std::string_view type, config::object_reader& r, bool& known) {
  if constexpr (I == std::variant_size_v<any_check>) {
    known = false;
    return std::nullopt;
  } else {
    using T = std::variant_alternative_t<I, any_check>;
    if (type == T::type_name) {
      known = true;
      if (auto c = T::read(r)) return any_check(std::in_place_index<I>, std::move(*c));
      return std::nullopt;
    }
    return read_type<I + 1>(type, r, known);
  }
}

template <std::size_t I = 0>
void type_names(std::string& out) {
  if constexpr (I < std::variant_size_v<any_check>) {
    out += (I ? " | " : "") + std::string(std::variant_alternative_t<I, any_check>::type_name);
    type_names<I + 1>(out);
  }
}
}  // namespace detail

// "http | tcp | icmp | dns | tls | nagios".
inline std::string type_list() {
  std::string s;
  detail::type_names(s);
  return s;
}

// One configured check: the keys every type has, and the type's own.
struct check_def {
  std::string name;
  std::string host;                             // the host the check belongs to; empty: none
  double interval = 60;                         // seconds between runs
  double timeout = 10;                          // seconds a run may take
  unsigned retries = 0;                         // failed runs tolerated before the check fails
  alert::level level = alert::level::critical;  // what a failure raises (warnings raise WARNING)
  any_check impl;
  json::value raw;  // the configuration as written (a reload compares it)

  std::string_view type() const {
    return std::visit([](const auto& c) { return std::string_view(std::decay_t<decltype(c)>::type_name); },
                      impl);
  }
  std::string description() const {
    return std::visit([](const auto& c) { return std::string(c.description()); }, impl);
  }
};

// Runs a check once: the run's result with checked_at set, never an exception.
inline net::awaitable<check_result> run_check(std::shared_ptr<const check_def> def,
                                              std::shared_ptr<runtime> rt) {
  const double started = clock::wall_now();
  check_result r;
  try {
    run_context ctx{std::move(rt), std::chrono::milliseconds(static_cast<long long>(def->timeout * 1000))};
    r = co_await std::visit([&](const auto& c) { return c.run(ctx); }, def->impl);
  } catch (const std::exception& e) {
    r = check_result::failed(std::string("internal error: ") + e.what());
  }
  r.checked_at = started;
  co_return r;
}

}  // namespace heartbeat::checks
