// Reads a config file into json::value: JSON when the text starts with '{',
// YAML otherwise (the YAML path is only compiled where yaml-cpp is available,
// i.e. not in hbc_mini, which defines HB_CONFIG_NO_YAML).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#ifndef HB_CONFIG_NO_YAML
#include "heartbeat/config/yaml.hpp"
#endif

namespace heartbeat::config {

inline result<std::string> read_text_file(const std::string& path, std::size_t max_bytes = 16u << 20) {
  std::FILE* f = std::fopen(path.c_str(), "rbe");  // e: O_CLOEXEC
  if (!f) return make_error("io", path + ": " + std::strerror(errno));
  std::string text;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > max_bytes) {
      std::fclose(f);
      return make_error("io", path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return make_error("io", path + ": read error");
  return text;
}

inline result<json::value> load_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.err();
  std::size_t i = 0;
  while (i < text->size() &&
         ((*text)[i] == ' ' || (*text)[i] == '\n' || (*text)[i] == '\r' || (*text)[i] == '\t'))
    ++i;
  if (i < text->size() && (*text)[i] == '{') {
    auto v = json::parse(*text);
    if (!v) return make_error("bad_json", path + ": " + v.err().message);
    return v;
  }
#ifndef HB_CONFIG_NO_YAML
  auto v = parse_yaml(*text);
  if (!v) return make_error("bad_yaml", path + ": " + v.err().message);
  if (v->is_null()) return json::value::object();  // an empty file
  return v;
#else
  return make_error("bad_json", path + ": not a JSON object");
#endif
}

}  // namespace heartbeat::config
