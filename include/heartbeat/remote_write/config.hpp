// The `remote_write` section: one entry per target (docs/REMOTE_WRITE.md), read with key-path
// diagnostics. Main thread at start-up and for `hbd check-config`, io thread on SIGHUP.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/json.hpp"

namespace heartbeat::remote_write {

namespace cfg = heartbeat::config;

struct target_config {
  std::string name;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given (after hbd's own)
  std::string username, password;                            // basic_auth, when username is set
  std::string bearer_token;
  std::vector<std::pair<std::string, std::string>> external_labels;  // sorted by name
  double flush_interval = 5;                                         // seconds a sample waits at most
  std::size_t max_samples_per_send = 2000;
  std::string spool_dir;  // as configured; relative to the state directory (hbd/remote_write.hpp)
  std::uint64_t spool_max_bytes = std::uint64_t{1} << 30;

  bool operator==(const target_config&) const = default;
};

namespace detail {

inline bool valid_target_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved for the protocol).
inline bool valid_label_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9') || s.starts_with("__")) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// An HTTP header name: RFC 9110 token characters.
inline bool valid_header_name(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return (x | 0x20) == (y | 0x20); });
}

// A mapping of strings (numbers are accepted and written as JSON writes them).
inline std::vector<std::pair<std::string, std::string>> string_map(cfg::object_reader& r,
                                                                   std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  const json::value* v = r.raw(key);
  if (!v) return out;
  if (!v->is_object()) {
    r.diag().error(r.key_path(key), std::string("must be a mapping, not ") + json::to_string(v->type()));
    return out;
  }
  for (const auto& [k, x] : v->as_object()) {
    if (x.is_string())
      out.emplace_back(k, x.as_string());
    else if (x.is_number())
      out.emplace_back(k, x.dump());
    else
      r.diag().error(cfg::join_path(r.key_path(key), k), "must be a string");
  }
  return out;
}

inline target_config read_target(cfg::object_reader r) {
  target_config t;
  auto& d = r.diag();
  r.get("name", t.name);
  if (!r.has("name"))
    d.error(r.key_path("name"), "is required");
  else if (!valid_target_name(t.name))
    d.error(r.key_path("name"), "must be 1 to 64 letters, digits, '_', '-' or '.'");
  r.get("url", t.url);
  if (!r.has("url"))
    d.error(r.key_path("url"), "is required");
  else if (!t.url.starts_with("http://") && !t.url.starts_with("https://"))
    d.error(r.key_path("url"), "must be an http:// or https:// URL");

  t.headers = string_map(r, "headers");
  for (const auto& [k, v] : t.headers) {
    std::string path = cfg::join_path(r.key_path("headers"), k);
    if (!valid_header_name(k)) d.error(path, "is not a valid HTTP header name");
    if (v.find_first_of("\r\n") != std::string::npos) d.error(path, "must not contain line breaks");
    for (std::string_view own : {"Content-Encoding", "Content-Type", "Content-Length",
                                 "X-Prometheus-Remote-Write-Version", "Expect"})
      if (iequals(k, own)) d.error(path, "is set by hbd (the remote write protocol)");
  }
  if (r.has("basic_auth")) {
    cfg::object_reader b = r.child("basic_auth");
    b.get("username", t.username);
    b.get("password", t.password);
    if (t.username.empty()) d.error(b.key_path("username"), "is required");
    b.finish();
  }
  r.get("bearer_token", t.bearer_token);
  if (!t.username.empty() && !t.bearer_token.empty())
    d.error(r.key_path("bearer_token"), "cannot be combined with basic_auth");
  if (!t.username.empty() || !t.bearer_token.empty())
    for (const auto& [k, v] : t.headers)
      if (iequals(k, "Authorization"))
        d.error(cfg::join_path(r.key_path("headers"), k), "conflicts with basic_auth or bearer_token");

  t.external_labels = string_map(r, "external_labels");
  for (const auto& [k, v] : t.external_labels) {
    std::string path = cfg::join_path(r.key_path("external_labels"), k);
    if (!valid_label_name(k))
      d.error(path, "is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)");
    if (v.empty()) d.error(path, "must not be empty");
  }
  std::sort(t.external_labels.begin(), t.external_labels.end());

  r.get_duration("flush_interval", t.flush_interval);
  if (t.flush_interval <= 0 || t.flush_interval > 3600)
    d.error(r.key_path("flush_interval"), "must be more than 0 and at most 3600 seconds");
  r.get("max_samples_per_send", t.max_samples_per_send, 1, 1000000);
  t.spool_dir = "remote_write/" + t.name;
  r.get("spool_dir", t.spool_dir);
  if (t.spool_dir.empty()) d.error(r.key_path("spool_dir"), "must not be empty");
  r.get("spool_max_bytes", t.spool_max_bytes, 65536, 1e15);
  r.finish();
  return t;
}

}  // namespace detail

// The label that tells the nodes of a cluster apart in what they write.
inline constexpr std::string_view replica_label = "replica";

// With several hbd nodes every node receives every datagram and writes every sample, so each
// target of node `node` gets `replica="<node>"` among its external labels and the receiver
// deduplicates the replicas (docs/REMOTE_WRITE.md, "Several hbd nodes"). A target that sets
// `replica` itself keeps its own value (the same on every node: the nodes write identical series).
inline void add_replica_label(std::vector<target_config>& targets, std::string_view node) {
  for (auto& t : targets) {
    auto& labels = t.external_labels;
    if (std::any_of(labels.begin(), labels.end(), [](const auto& l) { return l.first == replica_label; }))
      continue;
    labels.emplace_back(std::string(replica_label), std::string(node));
    std::sort(labels.begin(), labels.end());
  }
}

// Reads `remote_write` from the whole configuration tree; problems go to `diag` with their key
// path. Returns the targets that were readable (a target with errors is still returned; callers
// that run the configuration do so only when `diag` has no errors).
inline std::vector<target_config> load_config(const json::value& root, cfg::diagnostics& diag) {
  std::vector<target_config> out;
  const json::value* v = root.is_object() ? root.find("remote_write") : nullptr;
  if (!v || v->is_null()) return out;
  if (!v->is_array()) {
    diag.error("remote_write", std::string("must be a list of targets, not ") + json::to_string(v->type()));
    return out;
  }
  std::size_t i = 0;
  for (const auto& item : v->as_array()) {
    std::string path = "remote_write." + std::to_string(i++);
    target_config t = detail::read_target(cfg::object_reader(item, path, diag));
    for (const auto& o : out) {
      if (!t.name.empty() && o.name == t.name) diag.error(path + ".name", "\"" + t.name + "\" is used twice");
      if (o.spool_dir == t.spool_dir) diag.error(path + ".spool_dir", "is the spool_dir of target " + o.name);
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace heartbeat::remote_write
