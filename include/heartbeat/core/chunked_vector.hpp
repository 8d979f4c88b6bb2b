// A vector that grows by fixed-size chunks: elements never move, and growing never holds the
// old and the new buffer at once (a std::vector of a million large elements briefly needs twice
// their memory on every doubling). Indexed like a vector; single-threaded like one.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <vector>

namespace heartbeat {

template <class T, std::size_t Chunk = 256>
class chunked_vector {
 public:
  T& operator[](std::size_t i) noexcept { return chunks_[i / Chunk][i % Chunk]; }
  const T& operator[](std::size_t i) const noexcept { return chunks_[i / Chunk][i % Chunk]; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // Appends a value-initialised element.
  T& emplace_back() {
    if (size_ == chunks_.size() * Chunk) chunks_.push_back(std::make_unique<T[]>(Chunk));
    T& x = (*this)[size_++];
    x = T{};
    return x;
  }
  void clear() noexcept {
    chunks_.clear();
    size_ = 0;
  }

  template <class V, class Owner>
  class iter {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = V*;
    using reference = V&;
    iter(Owner* o, std::size_t i) : o_(o), i_(i) {}
    V& operator*() const { return (*o_)[i_]; }
    V* operator->() const { return &(*o_)[i_]; }
    iter& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const iter& b) const { return i_ == b.i_; }

   private:
    Owner* o_;
    std::size_t i_;
  };
  auto begin() { return iter<T, chunked_vector>(this, 0); }
  auto end() { return iter<T, chunked_vector>(this, size_); }
  auto begin() const { return iter<const T, const chunked_vector>(this, 0); }
  auto end() const { return iter<const T, const chunked_vector>(this, size_); }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  std::size_t size_ = 0;
};

}  // namespace heartbeat
