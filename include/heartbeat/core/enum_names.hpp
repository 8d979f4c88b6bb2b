// The names of an enum's values in one table, indexed by the value (enums numbered 0, 1, 2, ... in
// declaration order), so that to_string and parsing read the same list and a new value is one
// entry. constexpr data: any thread.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <type_traits>

namespace heartbeat {

// `Last` is the enum's last value: the table must name every value up to it, which the
// constructor checks at compile time.
template <auto Last>
requires std::is_enum_v<decltype(Last)>
class enum_names {
 public:
  using type = decltype(Last);
  static constexpr std::size_t size = static_cast<std::size_t>(Last) + 1;

  // `fallback` is the name of a value outside the enum (only a cast can make one).
  template <std::size_t N>
  requires(N == size) constexpr enum_names(const char* const (&names)[N], const char* fallback) noexcept
      : fallback_(fallback) {
    for (std::size_t i = 0; i < N; ++i) names_[i] = names[i];
  }

  constexpr const char* operator[](type v) const noexcept {
    auto i = static_cast<std::size_t>(v);
    return i < size ? names_[i] : fallback_;
  }

  // The value named exactly `s`, or nullopt.
  constexpr std::optional<type> parse(std::string_view s) const noexcept {
    for (std::size_t i = 0; i < size; ++i)
      if (s == names_[i]) return static_cast<type>(i);
    return std::nullopt;
  }

 private:
  std::array<const char*, size> names_{};
  const char* fallback_;
};

}  // namespace heartbeat
