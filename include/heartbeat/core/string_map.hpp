// Hash maps keyed by std::string that are looked up with std::string_view
// (no temporary string per lookup on the ingest path).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace heartbeat {

// Transparent string hash. operator() is deliberately not noexcept: libstdc++
// then caches each node's hash code, so a lookup compares cached codes instead
// of re-hashing every key it passes in a bucket (measured: the host map lookup
// was the largest user-space cost per heartbeat without it).
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

}  // namespace heartbeat
