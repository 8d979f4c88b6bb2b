// The replay cache of authenticated datagrams: remembers each accepted mac until
// its ts leaves the auth window, in bounded memory. Owned by one decoder (one thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace heartbeat::protocol {

// Open addressing on the first 16 bytes of the mac (a mac is uniformly random, so
// those bytes are their own hash). The table starts small and doubles up to
// `max_entries`; expired entries are purged when it fills. At the cap, when every
// entry is still live, the entries closest to expiry are evicted first (a replay of
// one of those is then possible only until its ts goes stale): memory stays bounded
// whatever the rate of authenticated traffic.
class replay_cache {
 public:
  explicit replay_cache(std::size_t max_entries = std::size_t{1} << 20) { set_max_entries(max_entries); }

  void set_max_entries(std::size_t n) {
    max_ = 64;
    while (max_ < n) max_ <<= 1;
  }

  // True when `mac` was already recorded and has not expired (a replay). Otherwise
  // records it until `expiry` and returns false.
  bool check_and_insert(const std::uint8_t* mac, double expiry, double now) {
    if (slots_.empty()) slots_.assign(64, slot{});
    std::uint64_t a, b;
    std::memcpy(&a, mac, 8);
    std::memcpy(&b, mac + 8, 8);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = a & mask;; i = (i + 1) & mask) {
      slot& s = slots_[i];
      if (s.expiry < 0) break;
      if (s.a == a && s.b == b) {
        if (s.expiry > now) return true;
        s.expiry = expiry;
        return false;
      }
    }
    if ((count_ + 1) * 4 > slots_.size() * 3) make_room(now, expiry);
    place(a, b, expiry);
    return false;
  }

  std::size_t size() const noexcept { return count_; }
  std::size_t capacity() const noexcept { return slots_.size(); }
  std::size_t max_entries() const noexcept { return max_; }

 private:
  struct slot {
    std::uint64_t a = 0, b = 0;
    double expiry = -1;  // < 0: empty
  };
  std::vector<slot> slots_;
  std::size_t count_ = 0;
  std::size_t max_ = 64;

  void place(std::uint64_t a, std::uint64_t b, double expiry) {
    std::size_t mask = slots_.size() - 1;
    std::size_t i = a & mask;
    while (slots_[i].expiry >= 0) i = (i + 1) & mask;
    slots_[i] = slot{a, b, expiry};
    ++count_;
  }

  // Rebuilds into `size` slots keeping entries that expire after `keep_after`.
  void rebuild(std::size_t size, double keep_after) {
    std::vector<slot> old(size);
    old.swap(slots_);
    count_ = 0;
    for (const slot& s : old)
      if (s.expiry >= 0 && s.expiry > keep_after) place(s.a, s.b, s.expiry);
  }

  void make_room(double now, double horizon) {
    std::size_t live = 0;
    for (const slot& s : slots_) live += s.expiry > now;
    std::size_t size = slots_.size();
    while (size < max_ && (live + 1) * 2 > size) size <<= 1;
    if ((live + 1) * 4 <= size * 3) {
      rebuild(size, now);
      return;
    }
    // At the cap and full of live entries: drop the ones expiring soonest, in
    // steps of an eighth of the remaining horizon, until half the table is free.
    double span = horizon > now ? horizon - now : 1;
    for (int step = 1; step <= 8; ++step) {
      double cut = now + span * step / 8;
      std::size_t keep = 0;
      for (const slot& s : slots_) keep += s.expiry > cut;
      if ((keep + 1) * 2 <= size || step == 8) {
        rebuild(size, step == 8 ? horizon + 1 : cut);
        return;
      }
    }
  }
};

}  // namespace heartbeat::protocol
