// YAML text to json::value (via yaml-cpp), so that every config goes through the
// same typed readers (config/reader.hpp). Scalars become numbers, booleans or null
// where YAML 1.2's core schema says so; quoted scalars stay strings. And back
// (to_yaml), for `hbd --print-config`.
// Used by hbd and hbc at start-up and on reload; not on any hot path.
#pragma once

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <string>

#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"

namespace heartbeat::config {

namespace detail {

inline json::value yaml_scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return json::value(s);  // quoted: always a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return json::value();
  if (s == "true" || s == "True" || s == "TRUE") return json::value(true);
  if (s == "false" || s == "False" || s == "FALSE") return json::value(false);
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (*b == '+') ++b;
  double d = 0;
  auto [p, ec] = std::from_chars(b, e, d);
  if (ec == std::errc() && p == e && b != e) return json::value(d);
  return json::value(s);
}

// Nesting deeper than this is refused, as for JSON; it also stops an alias that refers to the
// node it is part of (`&a [*a]`), which would otherwise recurse without end.
inline constexpr int max_yaml_depth = 64;

struct too_deep {};

inline json::value yaml_to_json(const YAML::Node& n, int depth = 0) {
  if (depth > max_yaml_depth) throw too_deep{};
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return json::value();
    case YAML::NodeType::Scalar: return yaml_scalar(n);
    case YAML::NodeType::Sequence: {
      json::value a = json::value::array();
      for (const auto& e : n) a.push_back(yaml_to_json(e, depth + 1));
      return a;
    }
    case YAML::NodeType::Map: {
      json::value o = json::value::object();
      for (const auto& kv : n) o.set(kv.first.Scalar(), yaml_to_json(kv.second, depth + 1));
      return o;
    }
  }
  return json::value();
}

inline void emit_yaml(YAML::Emitter& out, const json::value& v) {
  switch (v.type()) {
    case json::kind::null: out << YAML::Null; break;
    case json::kind::boolean: out << v.as_bool(); break;
    case json::kind::number: {
      double d = v.as_number();
      if (std::abs(d) < 9e15 && d == std::floor(d)) {
        out << static_cast<long long>(d);
      } else {
        // The shortest text that reads back as the same number (0.3, not 0.29999999999999999).
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, d);
        if (r.ec == std::errc() && std::isfinite(d))
          out << std::string(buf, r.ptr);
        else
          out << d;
      }
      break;
    }
    case json::kind::string: out << v.as_string(); break;
    case json::kind::array:
      if (v.size() == 0) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& x : v.as_array()) emit_yaml(out, x);
      out << YAML::EndSeq;
      break;
    case json::kind::object:
      if (v.size() == 0) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& [k, x] : v.as_object()) {
        out << YAML::Key << k << YAML::Value;
        emit_yaml(out, x);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace detail

// A JSON tree as YAML text (block style; strings quoted where YAML would read them otherwise).
inline std::string to_yaml(const json::value& v) {
  YAML::Emitter out;
  detail::emit_yaml(out, v);
  return std::string(out.c_str()) + "\n";
}

// Parses YAML text; errors say the line and column.
inline result<json::value> parse_yaml(const std::string& text) {
  try {
    YAML::Node root = YAML::Load(text);
    return detail::yaml_to_json(root);
  } catch (const YAML::Exception& e) {
    return make_error("bad_yaml", "line " + std::to_string(e.mark.line + 1) + ", column " +
                                      std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const detail::too_deep&) {
    return make_error("bad_yaml", "nested deeper than " + std::to_string(detail::max_yaml_depth) +
                                      " levels (or an alias inside its own anchor)");
  }
}

}  // namespace heartbeat::config
