// The sender's first half: hand-over records become samples of the series /metrics shows
// (server/series.hpp) plus the target's external labels, encoded into WriteRequests of at most
// max_samples_per_send samples and compressed. It keeps every series in timestamp order: samples
// of one source (a host's PLGs of one plugin, a host, a connection, an alert) that are not newer
// than the last one sent are dropped and counted. Sender thread only.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "heartbeat/remote_write/config.hpp"
#include "heartbeat/remote_write/handover.hpp"
#include "heartbeat/remote_write/wire.hpp"
#include "heartbeat/server/series.hpp"

namespace heartbeat::remote_write {

// A compressed WriteRequest ready to send.
struct batch {
  std::uint32_t samples = 0;
  std::string payload;
};

// Prometheus's staleness marker: the series ended (a host's previous state).
inline double stale_nan() {
  const std::uint64_t bits = 0x7ff0000000000002ull;
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

class batcher {
 public:
  static constexpr std::size_t max_labels = 40;

  batcher(const target_config& t, std::function<void(batch&&)> sealed)
      : max_(std::max<std::size_t>(1, t.max_samples_per_send)),
        external_(t.external_labels),
        sealed_(std::move(sealed)) {}

  // One hand-over record at `now` (steady seconds, for the flush deadline).
  void add(std::span<const std::byte> rec, double now) {
    record_reader r(rec);
    if (req_.empty()) opened_ = now;
    switch (r.get<record_kind>()) {
      case record_kind::plugin: plugin(r); break;
      case record_kind::host: host(r); break;
      case record_kind::alert: alert(r); break;
      case record_kind::sample: sample(r); break;
    }
  }

  // The open batch has waited flush_interval (or the sender is stopping).
  bool due(double now, double flush_interval) const {
    return !req_.empty() && now - opened_ >= flush_interval;
  }
  double opened() const noexcept { return opened_; }
  bool empty() const noexcept { return req_.empty(); }
  std::size_t pending() const noexcept { return req_.samples(); }

  void seal() {
    if (req_.empty()) return;
    batch b;
    b.samples = static_cast<std::uint32_t>(req_.samples());
    snappy_compress(req_.bytes(), b.payload);
    req_.clear();
    sealed_(std::move(b));
  }

  std::uint64_t out_of_order() const noexcept { return out_of_order_; }
  std::uint64_t produced() const noexcept { return produced_; }

 private:
  struct source {
    std::int64_t last_ms = INT64_MIN;    // the last timestamp written
    std::int64_t last_seen = INT64_MIN;  // the last timestamp taken (before crowding)
    std::uint8_t state = 0xff;           // a host's last written state (server::host_state)
  };

  std::size_t max_;
  std::vector<std::pair<std::string, std::string>> external_;
  std::function<void(batch&&)> sealed_;
  write_request req_;
  double opened_ = 0;
  std::uint64_t out_of_order_ = 0;
  std::uint64_t produced_ = 0;
  std::unordered_map<std::uint64_t, source> sources_;
  std::string key_, id_;
  server::series::plugin_values values_;
  std::vector<std::uint32_t> order_;
  std::array<label, max_labels> labels_;

  // The source of a group of series, by a 64-bit hash of its identity (collisions are negligible
  // for millions of sources). Returns nullptr, counting `n` samples as dropped, when `ms` is not
  // newer than the source's last. With `crowd`, for timestamps hbd itself takes (events, HTB
  // receive times), several changes within one millisecond are written a millisecond apart, so
  // the last one is the one that stays; only a clock going back drops.
  template <class... Parts>
  source* advance(std::int64_t& ms, std::size_t n, bool crowd, char kind, Parts... parts) {
    key_.assign(1, kind);
    ((key_.append(parts), key_.push_back('\0')), ...);
    source& s = sources_[std::hash<std::string_view>{}(key_)];
    if (crowd && ms >= s.last_seen && ms <= s.last_ms) {
      s.last_seen = ms;
      ms = s.last_ms + 1;
    } else if (ms <= s.last_ms) {
      out_of_order_ += n;
      return nullptr;
    } else {
      s.last_seen = ms;
    }
    s.last_ms = ms;
    return &s;
  }

  // One sample: the series' labels (empty values left out), the external labels whose names the
  // series does not use, sorted by name as the protocol requires.
  void emit(const char* name, std::initializer_list<label> own, double value, std::int64_t ms) {
    std::size_t n = 0;
    labels_[n++] = {"__name__", name};
    for (const auto& l : own)
      if (!l.value.empty()) labels_[n++] = l;
    finish(n, own.size() + 1, value, ms);
  }

  void finish(std::size_t n, std::size_t own_end, double value, std::int64_t ms) {
    for (const auto& [k, v] : external_) {
      if (n >= max_labels) break;
      bool taken = false;
      for (std::size_t i = 0; i < std::min(n, own_end); ++i) taken = taken || labels_[i].name == k;
      if (!taken) labels_[n++] = {k, v};
    }
    for (std::size_t i = 1; i < n; ++i)  // insertion sort: a handful of labels
      for (std::size_t j = i; j > 0 && labels_[j].name < labels_[j - 1].name; --j)
        std::swap(labels_[j], labels_[j - 1]);
    req_.add({labels_.data(), n}, value, ms);
    ++produced_;
    if (req_.samples() >= max_) seal();
  }

  void plugin(record_reader& r) {
    namespace se = server::series;
    double ts = r.get<double>();
    std::string_view host = r.str(), plugin = r.str(), data = r.str();
    if (!values_.parse(data) || values_.empty()) return;
    std::int64_t ms = to_millis(ts);
    if (!advance(ms, values_.size(), false, 'P', host, plugin)) return;
    // A duplicate key gives one series twice at one timestamp: the first value is kept.
    order_.resize(values_.size());
    std::iota(order_.begin(), order_.end(), 0);
    std::stable_sort(order_.begin(), order_.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return values_.metric(a) < values_.metric(b); });
    for (std::size_t k = 0; k < order_.size(); ++k) {
      std::uint32_t i = order_[k];
      if (k > 0 && values_.metric(order_[k - 1]) == values_.metric(i)) {
        ++out_of_order_;
        continue;
      }
      emit(se::plugin_value.name,
           {{se::l_host, host}, {se::l_plugin, plugin}, {se::l_metric, values_.metric(i)}}, values_.value(i),
           ms);
    }
  }

  void host(record_reader& r) {
    namespace se = server::series;
    double ts = r.get<double>();
    std::int64_t ms = to_millis(ts);
    const std::int64_t taken = ms;
    std::string_view host = r.str();
    bool host_part = r.get<std::uint8_t>() != 0;
    auto state = static_cast<server::host_state>(r.get<std::uint8_t>());
    double loss = r.get<double>();
    bool has_skew = r.get<std::uint8_t>() != 0;
    double skew = r.get<double>();
    if (host_part) {
      if (source* s = advance(ms, 3 + has_skew, true, 'H', host)) {
        emit(se::host_up.name, {{se::l_host, host}}, se::up_value(state), ms);
        if (s->state != 0xff && s->state != static_cast<std::uint8_t>(state))
          emit(se::host_state.name,
               {{se::l_host, host},
                {se::l_state, server::to_string(static_cast<server::host_state>(s->state))}},
               stale_nan(), ms);
        emit(se::host_state.name, {{se::l_host, host}, {se::l_state, server::to_string(state)}}, 1, ms);
        s->state = static_cast<std::uint8_t>(state);
        emit(se::host_loss_ratio.name, {{se::l_host, host}}, loss, ms);
        if (has_skew) emit(se::host_clock_skew.name, {{se::l_host, host}}, skew, ms);
      }
    }
    auto n = r.get<std::uint8_t>();
    for (std::uint8_t i = 0; i < n; ++i) {
      auto family = static_cast<server::address_family>(r.get<std::uint8_t>());
      auto cstate = static_cast<server::host_state>(r.get<std::uint8_t>());
      bool has_rtt = r.get<std::uint8_t>() != 0;
      double rtt = r.get<double>();
      const char* fam = server::to_string(family);
      std::int64_t cms = taken;
      if (!advance(cms, 1 + has_rtt, true, 'C', host, std::string_view(fam))) continue;
      emit(se::connection_up.name, {{se::l_host, host}, {se::l_family, fam}}, se::up_value(cstate), cms);
      if (has_rtt)
        emit(se::connection_rtt.name, {{se::l_host, host}, {se::l_family, fam}}, rtt / 1000.0, cms);
    }
  }

  void alert(record_reader& r) {
    namespace se = server::series;
    double ts = r.get<double>();
    std::string_view host = r.str(), path = r.str();
    double level = r.get<std::uint8_t>();
    std::int64_t ms = to_millis(ts);
    if (!advance(ms, 1, true, 'A', host, path)) return;
    emit(se::alert_level.name, {{se::l_host, host}, {se::l_metric_path, path}}, level, ms);
  }

  void sample(record_reader& r) {
    double ts = r.get<double>();
    double value = r.get<double>();
    std::string_view name = r.str();
    auto n = std::min<std::size_t>(r.get<std::uint8_t>(), max_labels - 1);
    std::int64_t ms = to_millis(ts);
    std::size_t k = 0;
    labels_[k++] = {"__name__", name};
    for (std::size_t i = 0; i < n; ++i) {
      label l{r.str(), r.str()};
      if (!l.value.empty()) labels_[k++] = l;
    }
    std::sort(labels_.begin() + 1, labels_.begin() + static_cast<std::ptrdiff_t>(k),
              [](const label& a, const label& b) { return a.name < b.name; });
    std::string& id = id_;
    id.clear();
    for (std::size_t i = 1; i < k; ++i) {
      id.append(labels_[i].name);
      id.push_back('=');
      id.append(labels_[i].value);
      id.push_back('\0');
    }
    if (!advance(ms, 1, false, 'S', name, std::string_view(id))) return;
    finish(k, k, value, ms);
  }
};

}  // namespace heartbeat::remote_write
