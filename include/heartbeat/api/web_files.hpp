// The web UI's files held in memory: the pages (<web_dir>/*.html, with their shared parts from
// <web_dir>/partials put in) and every file under the static root (<web_dir>/static, else
// <web_dir>), read when the HTTP server starts and again on SIGHUP.
// The io thread answers /live, /static/... and the rest from here and never touches the disk for a
// request. Chosen over RESTinio's sendfile, which opens and stats the file on the io thread per
// request and, on the TLS listener, reads it there too; the whole UI is a few hundred KB (the
// limits below guard against a misconfigured web_dir).
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "heartbeat/core/log.hpp"

namespace heartbeat::api {

namespace detail {

inline std::string_view content_type_for(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

inline std::optional<std::string> read_file(const std::filesystem::path& p, std::size_t max = 16u << 20) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::string s;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    s.append(buf, static_cast<std::size_t>(in.gcount()));
    if (s.size() > max) return std::nullopt;
  }
  return s;
}

// The name="value" pairs of an include directive, in order.
inline std::vector<std::pair<std::string_view, std::string_view>> directive_attributes(std::string_view s) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (;;) {
    auto name_at = s.find_first_not_of(" \t\r\n");
    auto eq = s.find("=\"", name_at);
    if (name_at == std::string_view::npos || eq == std::string_view::npos) return out;
    auto close = s.find('"', eq + 2);
    if (close == std::string_view::npos) return out;
    out.emplace_back(s.substr(name_at, eq - name_at), s.substr(eq + 2, close - eq - 2));
    s.remove_prefix(close + 1);
  }
}

// `part` with each {{name}} that `attrs` names replaced by its value; other braces stay.
inline std::string fill_placeholders(
    std::string_view part, const std::vector<std::pair<std::string_view, std::string_view>>& attrs) {
  std::string out;
  for (std::size_t pos = 0;;) {
    auto at = part.find("{{", pos);
    auto end = at == std::string_view::npos ? at : part.find("}}", at + 2);
    if (end == std::string_view::npos) return out.append(part.substr(pos));
    out.append(part.substr(pos, at - pos));
    auto name = part.substr(at + 2, end - at - 2);
    auto it = std::find_if(attrs.begin(), attrs.end(), [&](const auto& a) { return a.first == name; });
    out.append(it == attrs.end() ? part.substr(at, end + 2 - at) : it->second);
    pos = end + 2;
  }
}

// `page` with each `<!--#include file="NAME" key="value" ... -->` replaced by <partials>/NAME
// (its last newline dropped) filled with the directive's values (docs/WEB.md "Shared page
// parts"). A directive whose file cannot be read stays as it is: an HTML comment.
inline std::string expand_includes(std::string_view page, const std::filesystem::path& partials) {
  static constexpr std::string_view open = "<!--#include ";
  std::string out;
  for (std::size_t pos = 0;;) {
    auto at = page.find(open, pos);
    auto end = at == std::string_view::npos ? at : page.find("-->", at);
    if (end == std::string_view::npos) return out.append(page.substr(pos));
    out.append(page.substr(pos, at - pos));
    auto attrs = directive_attributes(page.substr(at + open.size(), end - at - open.size()));
    std::optional<std::string> part;
    if (!attrs.empty() && attrs.front().first == "file" && !attrs.front().second.empty() &&
        attrs.front().second[0] != '.' && attrs.front().second.find('/') == std::string_view::npos)
      part = read_file(partials / attrs.front().second);
    if (part) {
      if (!part->empty() && part->back() == '\n') part->pop_back();
      out += fill_placeholders(*part, attrs);
    } else {
      log::warn("api: ", page.substr(at, end + 3 - at), ": no such file in ", partials.string());
      out.append(page.substr(at, end + 3 - at));
    }
    pos = end + 3;
  }
}

}  // namespace detail

class web_files {
 public:
  struct file {
    std::shared_ptr<const std::string> body;
    std::string_view content_type;
  };

  // Reads `dir` afresh, replacing what was loaded before.
  void load(const std::string& dir) {
    namespace fs = std::filesystem;
    dir_ = dir;
    pages_.clear();
    static_.clear();
    bytes_ = 0;
    entries_ = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      auto name = e.path().filename().string();
      if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".html") != 0) continue;
      if (auto body = detail::read_file(e.path()))
        pages_[name] = file{
            std::make_shared<const std::string>(detail::expand_includes(*body, fs::path(dir) / "partials")),
            "text/html; charset=utf-8"};
    }
    fs::path root = fs::path(dir) / "static";
    if (!fs::is_directory(root, ec)) root = fs::path(dir);
    auto real_root = fs::weakly_canonical(root, ec);
    if (!ec) walk(root, {}, real_root.string(), 0);
    if (entries_ > max_entries || bytes_ > max_bytes)
      log::warn("api: ", root.string(), " holds more than ", max_entries, " entries or ", max_bytes >> 20,
                " MiB; only the first ", static_.size(), " files are served");
  }

  // The charts' library under the static root; the pages work without it (charts become a note).
  static constexpr const char* chart_library = "vendor/uPlot.esm.js";
  bool has_chart_library() const { return static_.count(chart_library) != 0; }

  const std::string& dir() const noexcept { return dir_; }
  std::size_t size() const noexcept { return pages_.size() + static_.size(); }

  // <web_dir>/<name> (a page), or nullptr.
  const file* page(const std::string& name) const {
    auto it = pages_.find(name);
    return it == pages_.end() ? nullptr : &it->second;
  }

  // A file under the static root by its percent-decoded path segments, or nullptr. A segment that
  // is empty, ".", "..", hidden (leading dot) or holds a slash or backslash finds nothing.
  const file* find(const std::vector<std::string>& segs) const {
    if (segs.empty()) return nullptr;
    std::string key;
    for (const auto& s : segs) {
      if (s.empty() || s[0] == '.' || s.find('/') != std::string::npos || s.find('\\') != std::string::npos)
        return nullptr;
      if (!key.empty()) key += '/';
      key += s;
    }
    auto it = static_.find(key);
    return it == static_.end() ? nullptr : &it->second;
  }

 private:
  static constexpr std::size_t max_entries = 20000;
  static constexpr std::size_t max_bytes = 64u << 20;
  static constexpr int max_depth = 16;

  // Every regular file below `dir` whose real path (symlinks resolved) stays inside the root, under
  // the relative path a request names it by; hidden names are never served, so they are skipped.
  void walk(const std::filesystem::path& dir, const std::string& rel, const std::string& real_root,
            int depth) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (++entries_ > max_entries || bytes_ > max_bytes) return;
      auto name = e.path().filename().string();
      if (name.empty() || name[0] == '.' || name.find('\\') != std::string::npos) continue;
      std::error_code ec2;
      auto real = fs::weakly_canonical(e.path(), ec2);
      if (ec2) continue;
      auto rs = real.string();
      if (rs.size() <= real_root.size() || rs.compare(0, real_root.size(), real_root) != 0 ||
          rs[real_root.size()] != '/')
        continue;
      std::string key = rel.empty() ? name : rel + "/" + name;
      if (fs::is_directory(real, ec2)) {
        if (depth < max_depth) walk(e.path(), key, real_root, depth + 1);
        continue;
      }
      if (!fs::is_regular_file(real, ec2)) continue;
      auto body = detail::read_file(real);
      if (!body) continue;
      bytes_ += body->size();
      static_[key] =
          file{std::make_shared<const std::string>(std::move(*body)), detail::content_type_for(rs)};
    }
  }

  std::string dir_;
  std::unordered_map<std::string, file> pages_;
  std::unordered_map<std::string, file> static_;  // by relative path, e.g. "js/api.js"
  std::size_t bytes_ = 0;
  std::size_t entries_ = 0;
};

}  // namespace heartbeat::api
