// api::web_files: the web UI read into memory (pages, the static tree), with the path rules of
// /static/... (no "..", no hidden names, no symlink out of the directory) and a fresh read on load().
#include "heartbeat/api/web_files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "../temp_dir.hpp"

namespace api = heartbeat::api;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// Each {path below root, text}.
void write_files(const fs::path& root, std::initializer_list<std::pair<const char*, const char*>> files) {
  for (const auto& [rel, text] : files) write(root / rel, text);
}

std::string body_of(const api::web_files& w, const std::vector<std::string>& segs) {
  const auto* f = w.find(segs);
  return f ? *f->body : std::string("<none>");
}

}  // namespace

TEST(WebFiles, PagesAndStaticTree) {
  hbtest::temp_dir d;
  write_files(d.path, {{"live.html", "<live>"},
                       {"notes.txt", "not a page"},
                       {"static/js/app.js", "js"},
                       {"static/favicon.svg", "svg"}});
  api::web_files w;
  w.load(d.path.string());
  EXPECT_EQ(w.dir(), d.path.string());
  ASSERT_NE(w.page("live.html"), nullptr);
  EXPECT_EQ(*w.page("live.html")->body, "<live>");
  EXPECT_EQ(w.page("notes.txt"), nullptr);
  EXPECT_EQ(w.page("host.html"), nullptr);
  ASSERT_NE(w.find({"js", "app.js"}), nullptr);
  EXPECT_EQ(w.find({"js", "app.js"})->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(w.find({"favicon.svg"})->content_type, "image/svg+xml");
  EXPECT_EQ(w.find({"js"}), nullptr);  // a directory
  EXPECT_EQ(w.find({}), nullptr);
}

TEST(WebFiles, RefusesTraversalHiddenNamesAndEscapingSymlinks) {
  hbtest::temp_dir d;
  write_files(d.path, {{"secret.txt", "secret"},
                       {"static/js/app.js", "js"},
                       {"static/.hidden", "hidden"},
                       {"static/.dir/x.js", "hidden dir"},
                       {"static/css/site.css", "css"}});
  fs::create_symlink(d.path / "secret.txt", d.path / "static/out.txt");
  fs::create_directory_symlink(d.path, d.path / "static/up");
  fs::create_directory_symlink(d.path / "static/js", d.path / "static/alias");
  fs::create_symlink(d.path / "static/css/site.css", d.path / "static/style.js");
  api::web_files w;
  w.load(d.path.string());
  for (const auto& segs : std::vector<std::vector<std::string>>{{"..", "secret.txt"},
                                                                {".hidden"},
                                                                {".dir", "x.js"},
                                                                {"out.txt"},
                                                                {"up", "secret.txt"},
                                                                {"js", "", "app.js"},
                                                                {".", "js", "app.js"},
                                                                {"js/app.js"},
                                                                {"js\\app.js"}})
    EXPECT_EQ(body_of(w, segs), "<none>") << segs.size() << " " << segs[0];
  // Symlinks that stay inside are served under the name asked for, typed by the real file.
  EXPECT_EQ(body_of(w, {"alias", "app.js"}), "js");
  EXPECT_EQ(w.find({"style.js"})->content_type, "text/css; charset=utf-8");
}

TEST(WebFiles, WithoutStaticTheDirectoryItselfIsTheRoot) {
  hbtest::temp_dir d;
  write(d.path / "app.js", "js");
  write(d.path / "live.html", "<live>");
  api::web_files w;
  w.load(d.path.string());
  EXPECT_EQ(body_of(w, {"app.js"}), "js");
  EXPECT_EQ(body_of(w, {"live.html"}), "<live>");
}

TEST(WebFiles, LoadReadsAfresh) {
  hbtest::temp_dir d;
  write(d.path / "static/a.js", "old");
  api::web_files w;
  w.load(d.path.string());
  write(d.path / "static/a.js", "new");
  write(d.path / "static/b.js", "b");
  EXPECT_EQ(body_of(w, {"a.js"}), "old");  // nothing is read per request
  w.load(d.path.string());
  EXPECT_EQ(body_of(w, {"a.js"}), "new");
  EXPECT_EQ(body_of(w, {"b.js"}), "b");
  w.load((d.path / "missing").string());
  EXPECT_EQ(w.size(), 0u);
}

TEST(WebFiles, PagesTakeTheirSharedPartsFromPartials) {
  hbtest::temp_dir d;
  write(d.path / "partials/head.html",
        "<title>{{title}} · HB</title>\n<script src=\"{{script}}\"></script>\n");
  write(
      d.path / "live.html",
      "<!--#include file=\"head.html\" title=\"Live view\" script=\"live.js\" -->\n<body>{{title}}</body>\n");
  write(d.path / "broken.html",
        "a<!--#include file=\"missing.html\" -->b<!--#include file=\"../live.html\" -->c<!--#include ");
  write(d.path / "static/app.js", "js");
  api::web_files w;
  w.load(d.path.string());
  // Placeholders are filled in the partial only; the page's own text stays as written.
  EXPECT_EQ(*w.page("live.html")->body,
            "<title>Live view · HB</title>\n<script src=\"live.js\"></script>\n<body>{{title}}</body>\n");
  EXPECT_EQ(*w.page("broken.html")->body,
            "a<!--#include file=\"missing.html\" -->b<!--#include file=\"../live.html\" -->c<!--#include ");
  EXPECT_EQ(w.page("head.html"), nullptr);
  EXPECT_EQ(w.find({"partials", "head.html"}), nullptr);
  // A placeholder the directive does not name stays.
  write(d.path / "partials/head.html", "{{title}}{{other}}");
  w.load(d.path.string());
  EXPECT_EQ(*w.page("live.html")->body, "Live view{{other}}\n<body>{{title}}</body>\n");
}
