// The number json::parse_sax promises for a raw JSON number, computed without the
// parser's code (std::from_chars, saturating out-of-range values to +-HUGE_VAL or,
// for tiny exponents, to zero). Used by the core unit test and the fuzz target.
#pragma once

#include <charconv>
#include <cmath>
#include <string_view>

namespace hbtest {

inline double reference_number(std::string_view raw) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (ec == std::errc::result_out_of_range) {
    v = raw.front() == '-' ? -HUGE_VAL : HUGE_VAL;
    auto e = raw.find_first_of("eE");
    if (e != std::string_view::npos && e + 1 < raw.size() && raw[e + 1] == '-') v = 0;
  }
  return v;
}

}  // namespace hbtest
