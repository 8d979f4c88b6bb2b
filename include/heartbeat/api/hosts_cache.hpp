// GET /api/0/hosts rendered at most once per `hosts_cache_ttl` per audience (everyone / one user):
// with 10,000 hosts rendering costs tens of milliseconds on the io thread, and dashboards poll.
// Host and drop events expire every entry, so state changes show at once. A client that accepts
// gzip gets the list compressed (about twentyfold smaller), compressed once per rendering with
// RESTinio's zlib transformator. Lives on the io thread.
#pragma once

#include <restinio/transforms/zlib.hpp>

#include <algorithm>
#include <exception>
#include <memory>
#include <string>
#include <unordered_map>

#include "heartbeat/api/auth.hpp"
#include "heartbeat/api/backend.hpp"

namespace heartbeat::api {

namespace detail {

// gzip (RFC 1952) of `in` at a fast level (1; window 15, memLevel 8); nullptr when zlib fails.
inline std::shared_ptr<const std::string> gzip(const std::string& in) {
  namespace rtz = restinio::transforms::zlib;
  try {
    auto params = rtz::make_gzip_compress_params(1).mem_level(8).reserve_buffer_size(
        std::max<std::size_t>(in.size() / 8, 4096));
    return std::make_shared<const std::string>(rtz::transform(in, params));
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace detail

class hosts_cache {
 public:
  explicit hosts_cache(double ttl) : ttl_(ttl) {}

  // Lists under this size go out uncompressed: gzip would save less than a packet.
  static constexpr std::size_t gzip_min_bytes = 1400;

  struct answer {
    std::shared_ptr<const std::string> body;
    bool gzipped = false;
  };

  // The list for `audience` (nullptr: every host), gzipped when `gzip` and worth it; `now` is
  // monotonic time (the TTL must not stretch when the wall clock steps back).
  answer get(const backend& b, const user* audience, bool gzip, double now) {
    std::string key = audience ? audience->name : std::string();
    auto it = entries_.find(key);
    if (it == entries_.end() || !(now - it->second.at < ttl_ && now >= it->second.at)) {
      // The list is tens of MB at 100,000 hosts: render into the previous body when no response
      // holds it any more (a fresh buffer costs its page faults again), else size a new one
      // from the last render instead of growing (and copying) it a dozen times.
      std::shared_ptr<std::string> out;
      if (it != entries_.end() && it->second.body.use_count() == 1) {
        out = std::const_pointer_cast<std::string>(std::move(it->second.body));
        out->clear();
      } else {
        out = std::make_shared<std::string>();
        out->reserve(render_size_ + render_size_ / 16);
      }
      b.write_hosts_json(*out, audience);
      render_size_ = std::max(render_size_, out->size());
      if (entries_.size() > 1000) entries_.clear();
      it = entries_.insert_or_assign(key, entry{out, nullptr, now}).first;
    }
    if (!gzip || it->second.body->size() < gzip_min_bytes) return {it->second.body, false};
    if (!it->second.gz) it->second.gz = detail::gzip(*it->second.body);
    if (!it->second.gz) return {it->second.body, false};
    return {it->second.gz, true};
  }

  // A host changed: every cached list is out of date (their buffers stay for reuse).
  void expire() {
    for (auto& [key, e] : entries_) e.at = -1;
  }

 private:
  struct entry {
    std::shared_ptr<const std::string> body;
    std::shared_ptr<const std::string> gz;  // made by the first request that accepts gzip
    double at = 0;
  };

  double ttl_;
  std::unordered_map<std::string, entry> entries_;
  std::size_t render_size_ = 0;  // largest body rendered so far
};

}  // namespace heartbeat::api
