// Handlers of the web UI: the HTML pages, /static/... and /favicon.ico, all answered from the
// in-memory copy of web_dir (web_files.hpp), and the redirect of / to /live. Run on the io thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "heartbeat/api/request.hpp"

namespace heartbeat::api::handlers::pages {

// The file's buffer as a response body, without a copy (RESTinio wants a non-const pointer; it
// only reads the buffer).
inline std::shared_ptr<std::string> shared(const web_files::file& f) {
  return std::const_pointer_cast<std::string>(f.body);
}

inline handled send_page(call& c, const std::string& file) {
  const web_files::file* f = c.ctx.web.page(file);
  if (!f) return c.error(404, "page '" + file + "' is not installed in " + c.ctx.web.dir());
  return c.ctx.reply(c.req, 200, shared(*f), "text/html; charset=utf-8",
                     {{"X-Frame-Options", "DENY"}, {"Referrer-Policy", "same-origin"}});
}

// <web_dir>/<file> as an HTML page.
inline handler serve(std::string file) {
  return [file = std::move(file)](call& c) { return send_page(c, file); };
}

// /plugins/{host}: host.html when the web UI has one, else plugins.html (which reads the host from
// the URL).
inline handled host_page(call& c) {
  return send_page(c, c.ctx.web.page("host.html") ? "host.html" : "plugins.html");
}

// The file under the static root named by `segs`; 404 for anything else (no "..", no hidden files,
// nothing whose real path leaves the directory). Revalidated on every use (no-cache): after an
// upgrade the pages must not run old scripts against the new API.
inline handled send_static(call& c, const std::vector<std::string>& segs) {
  const web_files::file* f = c.ctx.web.find(segs);
  if (!f) return c.error(404, "not found");
  c.ctx.count(200);
  auto r = c.req->create_response(restinio::status_ok());
  r.append_header(restinio::http_field::content_type, std::string(f->content_type));
  r.append_header("Cache-Control", "no-cache");
  r.append_header("X-Content-Type-Options", "nosniff");
  r.set_body(restinio::writable_item_t{shared(*f)});
  r.done();
  return restinio::request_accepted();
}

// /static/{file...}
inline handled static_file(call& c) { return send_static(c, detail::split_segments(c.params["file"])); }

// /favicon.ico: /static/favicon.ico.
inline handled favicon(call& c) { return send_static(c, {"favicon.ico"}); }

// /: the live view.
inline handled to_live(call& c) { return c.ctx.redirect(c.req, "/live"); }

}  // namespace heartbeat::api::handlers::pages
