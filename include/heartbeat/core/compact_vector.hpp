// A vector that costs one pointer while empty: a host record carries lists most hosts never fill
// (managers, monitors, per-host threshold profiles, queued commands), and a million hosts paid 24
// bytes for each of them. Reads as a const std::vector<T>&; writes go through the members below.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace heartbeat {

template <class T>
class compact_vector {
 public:
  using vector_type = std::vector<T>;
  using value_type = T;
  using iterator = typename vector_type::iterator;
  using const_iterator = typename vector_type::const_iterator;

  compact_vector() = default;
  compact_vector(vector_type v) { assign(std::move(v)); }  // NOLINT: converts like the vector
  compact_vector(const compact_vector& o) { assign(o.get()); }
  compact_vector(compact_vector&&) noexcept = default;
  compact_vector& operator=(const compact_vector& o) {
    if (this != &o) assign(o.get());
    return *this;
  }
  compact_vector& operator=(compact_vector&&) noexcept = default;
  compact_vector& operator=(vector_type v) { return assign(std::move(v)); }

  compact_vector& assign(vector_type v) {
    if (v.empty())
      p_.reset();
    else if (p_)
      *p_ = std::move(v);
    else
      p_ = std::make_unique<vector_type>(std::move(v));
    return *this;
  }

  const vector_type& get() const noexcept { return p_ ? *p_ : none(); }
  operator const vector_type&() const noexcept { return get(); }  // NOLINT: reads like the vector
  // The vector itself, allocated on first use.
  vector_type& edit() {
    if (!p_) p_ = std::make_unique<vector_type>();
    return *p_;
  }

  bool empty() const noexcept { return !p_ || p_->empty(); }
  std::size_t size() const noexcept { return p_ ? p_->size() : 0; }
  const_iterator begin() const noexcept { return get().begin(); }
  const_iterator end() const noexcept { return get().end(); }
  iterator begin() noexcept { return p_ ? p_->begin() : iterator(); }
  iterator end() noexcept { return p_ ? p_->end() : iterator(); }
  const T& operator[](std::size_t i) const { return (*p_)[i]; }
  T& operator[](std::size_t i) { return (*p_)[i]; }
  const T& front() const { return p_->front(); }
  T& front() { return p_->front(); }
  const T& back() const { return p_->back(); }
  T& back() { return p_->back(); }
  void push_back(T v) { edit().push_back(std::move(v)); }
  template <class... A>
  T& emplace_back(A&&... a) {
    return edit().emplace_back(std::forward<A>(a)...);
  }
  void clear() noexcept { p_.reset(); }

  friend bool operator==(const compact_vector& a, const compact_vector& b) { return a.get() == b.get(); }
  friend bool operator==(const compact_vector& a, const vector_type& b) { return a.get() == b; }

 private:
  static const vector_type& none() noexcept {
    static const vector_type v;
    return v;
  }
  std::unique_ptr<vector_type> p_;
};

}  // namespace heartbeat
