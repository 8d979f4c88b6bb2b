// A string that costs one pointer while empty: alert states carry several texts (reason,
// display, who acknowledged) that the ~99 % of metrics that never alert never set, and a
// million hosts' states paid 32 bytes for each of them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace heartbeat {

class compact_string {
 public:
  compact_string() = default;
  compact_string(std::string_view s) { assign(s); }  // NOLINT: converts like std::string
  compact_string(const compact_string& o) { assign(o.view()); }
  compact_string(compact_string&&) noexcept = default;
  compact_string& operator=(const compact_string& o) {
    if (this != &o) assign(o.view());
    return *this;
  }
  compact_string& operator=(compact_string&&) noexcept = default;
  compact_string& operator=(std::string&& s) {
    if (s.empty())
      p_.reset();
    else
      p_ = std::make_unique<std::string>(std::move(s));
    return *this;
  }
  compact_string& operator=(const std::string& s) { return assign(s); }
  compact_string& operator=(std::string_view s) { return assign(s); }
  compact_string& operator=(const char* s) { return assign(s); }

  compact_string& assign(std::string_view s) {
    if (s.empty())
      p_.reset();
    else if (p_)
      p_->assign(s);
    else
      p_ = std::make_unique<std::string>(s);
    return *this;
  }
  void clear() noexcept { p_.reset(); }
  bool empty() const noexcept { return !p_ || p_->empty(); }
  std::size_t size() const noexcept { return p_ ? p_->size() : 0; }
  const std::string& str() const noexcept {
    static const std::string none;
    return p_ ? *p_ : none;
  }
  std::string_view view() const noexcept { return p_ ? std::string_view(*p_) : std::string_view(); }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: reads like a string

  friend bool operator==(const compact_string& a, std::string_view b) noexcept { return a.view() == b; }

 private:
  std::unique_ptr<std::string> p_;
};

}  // namespace heartbeat
