// The registry's hosts in name order (the API's lists), kept up to date as hosts come and go, and,
// once a search by name asked for them, their names lower case in one block in that order. A few
// hosts at a time go in by one merge and out by one erase, since re-sorting (and re-reading the
// names of) a million hosts for one new host costs about a second; a larger batch, or the first
// use, sorts all. Owned by host_registry (io thread).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/server/host.hpp"

namespace heartbeat::server {

class host_order {
 public:
  void added(host* h) {
    if (sorted_ && added_.size() < max_added)
      added_.push_back(h);
    else
      sorted_ = false;
  }
  // Before `h` is destroyed.
  void removed(const host* h) {
    if (!sorted_) return;
    if (auto a = std::find(added_.begin(), added_.end(), h); a != added_.end()) {
      added_.erase(a);
      return;
    }
    auto it = std::lower_bound(order_.begin(), order_.end(), h, by_name);
    if (it == order_.end() || *it != h) {
      sorted_ = false;
      return;
    }
    const auto i = static_cast<std::size_t>(it - order_.begin());
    order_.erase(it);
    if (indexed_) {
      const std::size_t from = starts_[i], len = starts_[i + 1] - from;
      blob_.erase(from, len);
      starts_.erase(starts_.begin() + static_cast<std::ptrdiff_t>(i));
      for (std::size_t j = i; j < starts_.size(); ++j) starts_[j] -= len;
    }
  }
  // Every host of `hosts` (name -> unique_ptr<host>), by name.
  template <class Map>
  const std::vector<host*>& get(const Map& hosts) {
    if (!sorted_) {
      order_.clear();
      order_.reserve(hosts.size());
      for (const auto& [n, h] : hosts) order_.push_back(h.get());
      std::sort(order_.begin(), order_.end(), by_name);
      added_.clear();
      sorted_ = true;
      indexed_ = false;
    } else if (!added_.empty()) {
      merge_added();
    }
    return order_;
  }
  // Whether hosts came or went since the last get() (the registry's sweep waits for a reader).
  bool pending() const noexcept { return !sorted_ || !added_.empty(); }

  // The indexes into get() of the hosts whose names contain `lower` (lower case), ascending: one
  // memchr/memcmp scan of the block instead of a visit to every host's name on the heap.
  template <class Map>
  void find_names(const Map& hosts, std::string_view lower, std::vector<std::uint32_t>& out) {
    get(hosts);
    if (lower.find('\0') != std::string_view::npos) return;  // no name holds one
    if (!indexed_) {
      blob_.clear();
      blob_.reserve(order_.size() * 32);
      starts_.clear();
      starts_.reserve(order_.size() + 1);
      for (const host* h : order_) append_name(blob_, starts_, *h);
      starts_.push_back(blob_.size());
      indexed_ = true;
    }
    const std::string_view all(blob_);
    std::size_t at = 0;
    auto name = starts_.begin();
    while ((at = all.find(lower, at)) != std::string_view::npos) {
      name = std::upper_bound(name, starts_.end(), at) - 1;
      out.push_back(static_cast<std::uint32_t>(name - starts_.begin()));
      at = *++name;  // on to the next name
    }
  }

 private:
  static constexpr std::size_t max_added = 64;
  static bool by_name(const host* a, const host* b) { return a->name < b->name; }
  static void append_name(std::string& blob, std::vector<std::size_t>& starts, const host& h) {
    starts.push_back(blob.size());
    for (char c : h.name) blob.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    blob.push_back('\0');
  }

  // One pass over the order (and the names) with the new hosts merged in.
  void merge_added() {
    std::sort(added_.begin(), added_.end(), by_name);
    std::vector<host*> order;
    order.reserve(order_.size() + added_.size());
    std::string blob;
    std::vector<std::size_t> starts;
    if (indexed_) {
      blob.reserve(blob_.size() + added_.size() * 32);
      starts.reserve(starts_.size() + added_.size());
    }
    std::size_t i = 0;
    auto copy_upto = [&](std::size_t upto) {
      order.insert(order.end(), order_.begin() + static_cast<std::ptrdiff_t>(i),
                   order_.begin() + static_cast<std::ptrdiff_t>(upto));
      if (indexed_) {
        const std::size_t shift = blob.size() - starts_[i];
        for (std::size_t j = i; j < upto; ++j) starts.push_back(starts_[j] + shift);
        blob.append(blob_, starts_[i], starts_[upto] - starts_[i]);
      }
      i = upto;
    };
    for (host* a : added_) {
      copy_upto(static_cast<std::size_t>(
          std::upper_bound(order_.begin() + static_cast<std::ptrdiff_t>(i), order_.end(), a, by_name) -
          order_.begin()));
      order.push_back(a);
      if (indexed_) append_name(blob, starts, *a);
    }
    copy_upto(order_.size());
    order_.swap(order);
    if (indexed_) {
      starts.push_back(blob.size());
      blob_.swap(blob);
      starts_.swap(starts);
    }
    added_.clear();
  }

  std::vector<host*> order_;
  std::vector<host*> added_;  // since the last get(), in no order
  bool sorted_ = false;
  std::string blob_;                 // with indexed_: every name lower case, each ending in '\0'
  std::vector<std::size_t> starts_;  // where each name starts in blob_, then blob_'s end
  bool indexed_ = false;
};

}  // namespace heartbeat::server
