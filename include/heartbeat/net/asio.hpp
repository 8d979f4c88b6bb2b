// The only file that includes standalone Asio, plus small awaitable helpers
// shared by hbd and hbc: a timeout race, a sleep, a logged detached spawn and
// close-on-exec for sockets.
// Everything here runs on whichever io_context thread awaits it.
#pragma once

#include <fcntl.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "heartbeat/core/log.hpp"

namespace heartbeat::net {

using asio::awaitable;
using asio::use_awaitable;
using steady_clock = std::chrono::steady_clock;

// Completion token that returns (error_code, results...) instead of throwing.
inline constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// Waits `d` on the current executor.
inline awaitable<void> sleep_for(steady_clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  auto [ec] = co_await t.async_wait(as_tuple_awaitable);
  (void)ec;
}

// Races `op` against a timer (Asio 1.22 has no cancel_after): the loser is
// cancelled. Returns the result, or nullopt when the time ran out first.
template <class T>
awaitable<std::optional<T>> with_timeout(awaitable<T> op, steady_clock::duration d) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  auto r = co_await (std::move(op) || t.async_wait(use_awaitable));
  if (r.index() == 0) co_return std::move(std::get<0>(r));
  co_return std::nullopt;
}

// The void flavour: true when `op` finished in time.
inline awaitable<bool> with_timeout(awaitable<void> op, steady_clock::duration d) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  auto r = co_await (std::move(op) || t.async_wait(use_awaitable));
  co_return r.index() == 0;
}

// co_spawn with a completion handler that logs what escaped the coroutine
// (never a silent `detached`). `what` names the task in the log line.
template <class Executor, class Awaitable>
void spawn(Executor&& ex, Awaitable&& a, std::string what) {
  asio::co_spawn(std::forward<Executor>(ex), std::forward<Awaitable>(a),
                 [what = std::move(what)](std::exception_ptr e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const asio::system_error& se) {
                     if (se.code() != asio::error::operation_aborted) log::error(what, ": ", se.what());
                   } catch (const std::exception& ex) {
                     log::error(what, ": ", ex.what());
                   }
                 });
}

// Asio opens and accepts sockets without SOCK_CLOEXEC. Children see only
// descriptors 0-2 anyway (net/subprocess.hpp closes the rest); this keeps a
// socket out of any exec that does not.
template <class Socket>
void close_on_exec(Socket& s) {
  if (s.is_open()) ::fcntl(s.native_handle(), F_SETFD, FD_CLOEXEC);
}

// Lets other work queued on the executor run (used by busy loops such as
// UDP ingest under load, so timers and HTTP are not starved).
inline awaitable<void> yield_now() { co_await asio::post(co_await asio::this_coro::executor, use_awaitable); }

}  // namespace heartbeat::net
