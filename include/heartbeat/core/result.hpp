// result<T>: a value or an error with a stable code and a message; the core's
// error channel (exceptions only at the edges). Dependency-free; any thread.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace heartbeat {

// An error: `code` is stable (tests and metrics key on it), `message` is for people.
struct error {
  std::string code;
  std::string message;
};

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  result(error e) : v_(std::in_place_index<1>, std::move(e)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const error& err() const& { return std::get<1>(v_); }

 private:
  std::variant<T, error> v_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error e) : e_(std::move(e)), ok_(false) {}
  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const error& err() const& { return e_; }

 private:
  error e_;
  bool ok_ = true;
};

inline error make_error(std::string code, std::string message) {
  return error{std::move(code), std::move(message)};
}

}  // namespace heartbeat
