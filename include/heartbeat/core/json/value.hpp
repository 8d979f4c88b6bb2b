// The small ordered DOM (`json::value`) and `json::parse`, which builds one from
// the SAX parser's events. Value types: safe on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/core/json/sax.hpp"
#include "heartbeat/core/json/write.hpp"
#include "heartbeat/core/result.hpp"

namespace heartbeat::json {

enum class kind : std::uint8_t { null, boolean, number, string, array, object };

inline const char* to_string(kind k) noexcept {
  switch (k) {
    case kind::null: return "null";
    case kind::boolean: return "boolean";
    case kind::number: return "number";
    case kind::string: return "string";
    case kind::array: return "array";
    case kind::object: return "object";
  }
  return "unknown";
}

// An ordered JSON value (objects keep insertion order, as JSON text did).
class value {
 public:
  using array_t = std::vector<value>;
  using member = std::pair<std::string, value>;
  using object_t = std::vector<member>;

  value() noexcept = default;
  value(std::nullptr_t) noexcept {}
  value(bool b) noexcept : kind_(kind::boolean), b_(b) {}
  value(double d) noexcept : kind_(kind::number), n_(d) {}
  value(int i) noexcept : kind_(kind::number), n_(i) {}
  value(long i) noexcept : kind_(kind::number), n_(static_cast<double>(i)) {}
  value(long long i) noexcept : kind_(kind::number), n_(static_cast<double>(i)) {}
  value(unsigned i) noexcept : kind_(kind::number), n_(i) {}
  value(unsigned long i) noexcept : kind_(kind::number), n_(static_cast<double>(i)) {}
  value(unsigned long long i) noexcept : kind_(kind::number), n_(static_cast<double>(i)) {}
  value(std::string s) : kind_(kind::string), s_(std::move(s)) {}
  value(std::string_view s) : kind_(kind::string), s_(s) {}
  value(const char* s) : kind_(kind::string), s_(s) {}
  value(array_t a) : kind_(kind::array), a_(std::make_unique<array_t>(std::move(a))) {}
  value(object_t o) : kind_(kind::object), o_(std::make_unique<object_t>(std::move(o))) {}

  static value array() { return value(array_t{}); }
  static value object() { return value(object_t{}); }
  static value object(std::initializer_list<member> members) { return value(object_t(members)); }

  value(const value& o) { copy_from(o); }
  value(value&&) noexcept = default;
  value& operator=(const value& o) {
    if (this != &o) {
      value tmp(o);
      *this = std::move(tmp);
    }
    return *this;
  }
  value& operator=(value&&) noexcept = default;

  kind type() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == kind::null; }
  bool is_bool() const noexcept { return kind_ == kind::boolean; }
  bool is_number() const noexcept { return kind_ == kind::number; }
  bool is_string() const noexcept { return kind_ == kind::string; }
  bool is_array() const noexcept { return kind_ == kind::array; }
  bool is_object() const noexcept { return kind_ == kind::object; }

  // Accessors: callers check the kind first (wrong kind returns a neutral value).
  bool as_bool() const noexcept { return kind_ == kind::boolean && b_; }
  double as_number() const noexcept { return kind_ == kind::number ? n_ : 0.0; }
  const std::string& as_string() const noexcept { return s_; }
  const array_t& as_array() const noexcept { return a_ ? *a_ : empty_array(); }
  const object_t& as_object() const noexcept { return o_ ? *o_ : empty_object(); }
  array_t& as_array() {
    ensure(kind::array);
    return *a_;
  }
  object_t& as_object() {
    ensure(kind::object);
    return *o_;
  }

  std::size_t size() const noexcept {
    if (kind_ == kind::array) return a_->size();
    if (kind_ == kind::object) return o_->size();
    return 0;
  }

  // Object member lookup; nullptr when absent or not an object.
  const value* find(std::string_view key) const noexcept {
    if (kind_ != kind::object) return nullptr;
    for (const auto& [k, v] : *o_)
      if (k == key) return &v;
    return nullptr;
  }
  value* find(std::string_view key) noexcept {
    return const_cast<value*>(static_cast<const value*>(this)->find(key));
  }
  bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }

  // Object member access, inserting null when absent (makes a null an object).
  value& operator[](std::string_view key) {
    ensure(kind::object);
    if (value* v = find(key)) return *v;
    o_->emplace_back(std::string(key), value());
    return o_->back().second;
  }
  // Sets or replaces a member.
  value& set(std::string_view key, value v) { return (*this)[key] = std::move(v); }
  bool erase(std::string_view key) {
    if (kind_ != kind::object) return false;
    for (auto it = o_->begin(); it != o_->end(); ++it)
      if (it->first == key) {
        o_->erase(it);
        return true;
      }
    return false;
  }
  void push_back(value v) {
    ensure(kind::array);
    a_->push_back(std::move(v));
  }

  // Convenience getters with defaults, for config-like reading.
  double number_or(std::string_view key, double dflt) const noexcept {
    const value* v = find(key);
    return v && v->is_number() ? v->n_ : dflt;
  }
  std::string string_or(std::string_view key, std::string_view dflt) const {
    const value* v = find(key);
    return v && v->is_string() ? v->s_ : std::string(dflt);
  }
  bool bool_or(std::string_view key, bool dflt) const noexcept {
    const value* v = find(key);
    return v && v->is_bool() ? v->b_ : dflt;
  }

  friend bool operator==(const value& a, const value& b) noexcept {
    if (a.kind_ != b.kind_) return false;
    switch (a.kind_) {
      case kind::null: return true;
      case kind::boolean: return a.b_ == b.b_;
      case kind::number: return a.n_ == b.n_;
      case kind::string: return a.s_ == b.s_;
      case kind::array: return *a.a_ == *b.a_;
      case kind::object: return *a.o_ == *b.o_;
    }
    return false;
  }

  void dump_to(std::string& out) const {
    switch (kind_) {
      case kind::null: out += "null"; break;
      case kind::boolean: out += b_ ? "true" : "false"; break;
      case kind::number: write_number(out, n_); break;
      case kind::string: write_string(out, s_); break;
      case kind::array: {
        out.push_back('[');
        bool first = true;
        for (const auto& v : *a_) {
          if (!first) out.push_back(',');
          first = false;
          v.dump_to(out);
        }
        out.push_back(']');
        break;
      }
      case kind::object: {
        out.push_back('{');
        bool first = true;
        for (const auto& [k, v] : *o_) {
          if (!first) out.push_back(',');
          first = false;
          write_string(out, k);
          out.push_back(':');
          v.dump_to(out);
        }
        out.push_back('}');
        break;
      }
    }
  }
  std::string dump() const {
    std::string out;
    dump_to(out);
    return out;
  }

 private:
  kind kind_ = kind::null;
  bool b_ = false;
  double n_ = 0;
  std::string s_;
  std::unique_ptr<array_t> a_;
  std::unique_ptr<object_t> o_;

  static const array_t& empty_array() noexcept {
    static const array_t e;
    return e;
  }
  static const object_t& empty_object() noexcept {
    static const object_t e;
    return e;
  }
  void ensure(kind k) {
    if (kind_ == k) return;
    *this = (k == kind::array) ? value(array_t{}) : value(object_t{});
  }
  void copy_from(const value& o) {
    kind_ = o.kind_;
    b_ = o.b_;
    n_ = o.n_;
    s_ = o.s_;
    if (o.a_) a_ = std::make_unique<array_t>(*o.a_);
    if (o.o_) o_ = std::make_unique<object_t>(*o.o_);
  }
};

namespace detail {

// Builds a json::value from SAX events.
class dom_builder {
 public:
  value root;

  bool on_null() { return put(value()); }
  bool on_bool(bool b) { return put(value(b)); }
  bool on_number(double d, std::string_view) { return put(value(d)); }
  bool on_string(std::string_view s) { return put(value(s)); }
  bool on_key(std::string_view k) {
    key_.assign(k);
    return true;
  }
  bool begin_object(std::size_t) { return open(value::object()); }
  bool end_object(std::size_t) { return close(); }
  bool begin_array(std::size_t) { return open(value::array()); }
  bool end_array(std::size_t) { return close(); }

 private:
  std::vector<value*> stack_;
  std::string key_;

  // A container begins: later values go into it until close().
  bool open(value container) {
    stack_.push_back(put_ref(std::move(container)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  bool put(value v) {
    put_ref(std::move(v));
    return true;
  }
  value* put_ref(value v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    value* top = stack_.back();
    if (top->is_array()) {
      top->as_array().push_back(std::move(v));
      return &top->as_array().back();
    }
    // Duplicate keys are kept (lookups see the first): checking would make
    // hostile input with many keys quadratic.
    top->as_object().emplace_back(key_, std::move(v));
    return &top->as_object().back().second;
  }
};

}  // namespace detail

// Parses JSON text into a value. Errors carry a stable code (bad_json, bad_utf8, too_deep).
inline result<value> parse(std::string_view text, parse_limits limits = {}) {
  detail::dom_builder b;
  parse_status s = parse_sax(text, b, limits);
  if (s != parse_status::ok) {
    std::string code = to_string(s);
    return make_error(code, std::string("invalid JSON (") + code + ")");
  }
  return std::move(b.root);
}

}  // namespace heartbeat::json
