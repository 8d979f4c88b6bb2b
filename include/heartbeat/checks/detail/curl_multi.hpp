// libcurl's multi interface driven by Asio readiness on the io thread: curl names the sockets
// it waits on (CURLMOPT_SOCKETFUNCTION) and when it wants a timeout (CURLMOPT_TIMERFUNCTION);
// Asio waits on them and calls curl_multi_socket_action. Every HTTP check shares one multi
// handle. Runs keep the driver alive through a shared_ptr, so a run still pending when hbd
// stops never touches freed memory. io thread only.
#pragma once

#include <curl/curl.h>

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "heartbeat/net/asio.hpp"

namespace heartbeat::checks::detail {

inline void curl_global_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

class curl_multi : public std::enable_shared_from_this<curl_multi> {
 public:
  using done_fn = std::function<void(CURLcode)>;

  explicit curl_multi(asio::any_io_executor ex) : ex_(ex), timer_(ex) {
    curl_global_once();
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &curl_multi::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &curl_multi::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  }
  curl_multi(const curl_multi&) = delete;
  curl_multi& operator=(const curl_multi&) = delete;
  ~curl_multi() {
    for (auto& [easy, done] : transfers_) curl_multi_remove_handle(multi_, easy);
    transfers_.clear();
    curl_multi_cleanup(multi_);  // may report sockets as removed: on_socket releases them
    for (auto& [fd, s] : socks_) s->release();
  }

  std::size_t active() const noexcept { return transfers_.size(); }

  // Starts a configured easy handle; `done` runs later on the io thread with curl's result.
  // The caller keeps `easy` alive until then, or calls abandon().
  bool start(CURL* easy, done_fn done) {
    if (curl_multi_add_handle(multi_, easy) != CURLM_OK) return false;
    transfers_.emplace(easy, std::move(done));
    return true;
  }

  // Gives up a transfer (its run ended another way): no callback.
  void abandon(CURL* easy) {
    if (transfers_.erase(easy)) curl_multi_remove_handle(multi_, easy);
  }

 private:
  struct sock {
    asio::posix::stream_descriptor d;
    curl_socket_t fd;
    int want = 0;
    bool reading = false, writing = false, gone = false;
    sock(asio::any_io_executor ex, curl_socket_t s) : d(ex, s), fd(s) {}
    // curl closes the socket itself: hand it back without closing, cancelling our waits.
    void release() {
      if (gone) return;
      gone = true;
      if (d.is_open()) (void)d.release();
    }
  };

  asio::any_io_executor ex_;
  CURLM* multi_ = nullptr;
  asio::steady_timer timer_;
  std::unordered_map<curl_socket_t, std::shared_ptr<sock>> socks_;
  std::unordered_map<CURL*, done_fn> transfers_;

  static int on_socket(CURL*, curl_socket_t s, int what, void* userp, void*) {
    auto* self = static_cast<curl_multi*>(userp);
    if (what == CURL_POLL_REMOVE) {
      if (auto it = self->socks_.find(s); it != self->socks_.end()) {
        it->second->release();
        self->socks_.erase(it);
      }
      return 0;
    }
    auto& p = self->socks_[s];
    if (!p) p = std::make_shared<sock>(self->ex_, s);
    p->want = what;
    self->arm(p);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<curl_multi*>(userp);
    if (timeout_ms < 0) {
      self->timer_.cancel();
      return 0;
    }
    self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer_.async_wait([w = self->weak_from_this()](const asio::error_code& ec) {
      if (ec) return;
      if (auto me = w.lock()) me->act(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  void arm(const std::shared_ptr<sock>& s) {
    if (s->gone) return;
    if ((s->want & CURL_POLL_IN) && !s->reading) {
      s->reading = true;
      s->d.async_wait(asio::posix::stream_descriptor::wait_read,
                      [w = weak_from_this(), s](const asio::error_code& ec) {
                        s->reading = false;
                        auto me = w.lock();
                        if (ec || s->gone || !me) return;
                        me->act(s->fd, CURL_CSELECT_IN);
                        me->arm(s);
                      });
    }
    if ((s->want & CURL_POLL_OUT) && !s->writing) {
      s->writing = true;
      s->d.async_wait(asio::posix::stream_descriptor::wait_write,
                      [w = weak_from_this(), s](const asio::error_code& ec) {
                        s->writing = false;
                        auto me = w.lock();
                        if (ec || s->gone || !me) return;
                        me->act(s->fd, CURL_CSELECT_OUT);
                        me->arm(s);
                      });
    }
  }

  void act(curl_socket_t fd, int events) {
    int running = 0;
    curl_multi_socket_action(multi_, fd, events, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL* easy = m->easy_handle;
      CURLcode rc = m->data.result;
      curl_multi_remove_handle(multi_, easy);
      auto it = transfers_.find(easy);
      if (it == transfers_.end()) continue;
      done_fn done = std::move(it->second);
      transfers_.erase(it);
      // Not from inside curl: the callback may start or end other transfers.
      asio::post(ex_, [done = std::move(done), rc] { done(rc); });
    }
  }
};

// Runs one configured transfer to its end. A run destroyed while waiting (hbd stopping)
// abandons the transfer.
inline net::awaitable<CURLcode> perform(std::shared_ptr<curl_multi> m, CURL* easy) {
  auto ex = co_await asio::this_coro::executor;
  auto signal = std::make_shared<asio::steady_timer>(ex, net::steady_clock::time_point::max());
  auto rc = std::make_shared<CURLcode>(CURLE_OK);
  auto finished = std::make_shared<bool>(false);
  if (!m->start(easy, [signal, rc, finished](CURLcode c) {
        *rc = c;
        *finished = true;
        signal->cancel();
      }))
    co_return CURLE_FAILED_INIT;
  struct guard {
    std::shared_ptr<curl_multi> m;
    CURL* easy;
    std::shared_ptr<bool> finished;
    ~guard() {
      if (!*finished) m->abandon(easy);
    }
  } g{m, easy, finished};
  // One wait: woken by the transfer's end, or cancelled (the run's timeout race lost).
  co_await signal->async_wait(net::as_tuple_awaitable);
  co_return *finished ? *rc : CURLE_ABORTED_BY_CALLBACK;
}

}  // namespace heartbeat::checks::detail
