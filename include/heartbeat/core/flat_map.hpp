// A small map kept as one sorted vector of (key, value) pairs, found by binary search with any key
// that compares with K (std::string_view for std::string). For maps that hold a handful of entries
// each and exist a million times over (a host's plugins): a std::map node costs 40 bytes of tree
// and allocator overhead per entry and an allocation of its own. The vector grows by one entry at
// a time, so it holds no unused capacity either; inserting moves the entries after it.
// Iterators and references are invalidated by emplace and erase.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

namespace heartbeat {

template <class K, class V>
class flat_map {
 public:
  using value_type = std::pair<K, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  iterator begin() noexcept { return v_.begin(); }
  iterator end() noexcept { return v_.end(); }
  const_iterator begin() const noexcept { return v_.begin(); }
  const_iterator end() const noexcept { return v_.end(); }
  std::size_t size() const noexcept { return v_.size(); }
  bool empty() const noexcept { return v_.empty(); }

  template <class Key>
  iterator find(const Key& k) {
    auto it = lower(k);
    return it != v_.end() && !(k < it->first) ? it : v_.end();
  }
  template <class Key>
  const_iterator find(const Key& k) const {
    return const_cast<flat_map*>(this)->find(k);
  }
  template <class Key>
  bool contains(const Key& k) const {
    return find(k) != end();
  }
  template <class Key>
  const V& at(const Key& k) const {
    auto it = find(k);
    if (it == end()) throw std::out_of_range("flat_map::at");
    return it->second;
  }

  // Inserts (key, V(args...)) unless the key is present; returns the entry and whether it is new.
  template <class Key, class... A>
  std::pair<iterator, bool> emplace(Key&& k, A&&... args) {
    auto it = lower(k);
    if (it != v_.end() && !(k < it->first)) return {it, false};
    const auto at = it - v_.begin();
    if (v_.size() == v_.capacity()) v_.reserve(v_.size() + 1);  // no doubling: exact size
    it = v_.emplace(v_.begin() + at, std::piecewise_construct, std::forward_as_tuple(std::forward<Key>(k)),
                    std::forward_as_tuple(std::forward<A>(args)...));
    return {it, true};
  }
  iterator erase(const_iterator it) { return v_.erase(it); }
  void clear() noexcept { v_.clear(); }

 private:
  template <class Key>
  iterator lower(const Key& k) {
    return std::lower_bound(v_.begin(), v_.end(), k,
                            [](const value_type& e, const Key& key) { return e.first < key; });
  }
  std::vector<value_type> v_;
};

}  // namespace heartbeat
