// A thin RAII layer over libpq for the PostgreSQL store and the cluster: a
// connection opened from any libpq connection string (URI or key=value) with
// hbd's timeouts underneath the user's own settings, text-parameter queries,
// LISTEN notifications, array literals for batched writes, and the connection
// string check `hbd check-config` runs (libpq's own parser). Each pg_conn
// belongs to one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/result.hpp"

namespace heartbeat::server::detail {

struct pg_result_free {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using pg_result = std::unique_ptr<PGresult, pg_result_free>;

inline std::string trim_pg_message(const char* m) {
  std::string s = m ? m : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Whether `s` is a connection string libpq accepts (a postgresql:// URI or key=value pairs).
inline result<void> check_conninfo(const std::string& s) {
  char* err = nullptr;
  PQconninfoOption* o = PQconninfoParse(s.c_str(), &err);
  if (!o) {
    std::string m = err ? trim_pg_message(err) : std::string("cannot parse (out of memory)");
    if (err) PQfreemem(err);
    return make_error("conninfo", "not a PostgreSQL connection string: " + m);
  }
  PQconninfoFree(o);
  return {};
}

// "user@host:port/dbname" for logs and /api/0/cluster: never the password.
inline std::string describe_conninfo(const std::string& s) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(s.c_str(), &err);
  if (err) PQfreemem(err);
  if (!opts) return "postgresql";
  std::string host, port, db, user;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val) continue;
    std::string_view k = o->keyword;
    if (k == "host" || (k == "hostaddr" && host.empty())) host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
    if (k == "user") user = o->val;
  }
  PQconninfoFree(opts);
  std::string out = "postgresql://";
  if (!user.empty()) out += user + "@";
  out += host.empty() ? std::string("localhost") : host;
  if (!port.empty()) out += ":" + port;
  if (!db.empty()) out += "/" + db;
  return out;
}

// A value for a text parameter; nullopt is SQL NULL.
using pg_param = std::optional<std::string>;

inline std::string pg_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Builds a PostgreSQL array literal ({"a","b"} / {1.5,2}) for unnest() batch writes.
class pg_array {
 public:
  void add(std::string_view s) {
    sep();
    out_.push_back('"');
    for (char c : s) {
      if (c == '\0') continue;  // text cannot hold NUL
      if (c == '"' || c == '\\') out_.push_back('\\');
      out_.push_back(c);
    }
    out_.push_back('"');
  }
  void add(double v) {
    sep();
    out_ += pg_number(v);
  }
  void add_null() {
    sep();
    out_ += "NULL";
  }
  std::size_t size() const noexcept { return n_; }
  std::string take() {
    std::string r = out_ + "}";
    out_ = "{";
    n_ = 0;
    return r;
  }

 private:
  std::string out_ = "{";
  std::size_t n_ = 0;
  void sep() {
    if (n_++) out_.push_back(',');
  }
};

class pg_conn {
 public:
  pg_conn() = default;
  pg_conn(const pg_conn&) = delete;
  pg_conn& operator=(const pg_conn&) = delete;
  pg_conn(pg_conn&& o) noexcept : c_(o.c_) { o.c_ = nullptr; }
  pg_conn& operator=(pg_conn&& o) noexcept {
    if (this != &o) {
      close();
      c_ = o.c_;
      o.c_ = nullptr;
    }
    return *this;
  }
  ~pg_conn() { close(); }

  // Connects (blocking, bounded by connect_timeout). hbd's defaults come first, so that
  // whatever the connection string sets wins: a dead server or network is noticed within
  // seconds (TCP keepalives and tcp_user_timeout) instead of the kernel's minutes.
  // `options`: server settings for this session ("-c name=value ..."), also a default that an
  // `options` in the connection string replaces.
  result<void> open(const std::string& conninfo, const std::string& application_name,
                    const std::string& options = {}) {
    close();
    const char* keys[] = {
        "application_name", "connect_timeout",  "keepalives", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "options",    "dbname",          nullptr};
    const char* vals[] = {application_name.c_str(), "5",    "1", "5", "2", "3", "10000", options.c_str(),
                          conninfo.c_str(),         nullptr};
    c_ = PQconnectdbParams(keys, vals, 1);
    if (!c_) return make_error("pg_connect", "out of memory");
    if (PQstatus(c_) != CONNECTION_OK) {
      std::string m = trim_pg_message(PQerrorMessage(c_));
      close();
      return make_error("pg_connect", m.empty() ? std::string("cannot connect") : m);
    }
    return {};
  }

  void close() {
    if (c_) PQfinish(c_);
    c_ = nullptr;
  }
  bool ok() const { return c_ && PQstatus(c_) == CONNECTION_OK; }
  PGconn* get() const noexcept { return c_; }
  std::string errmsg() const {
    return c_ ? trim_pg_message(PQerrorMessage(c_)) : std::string("not connected");
  }

  // One statement (or several, without parameters); error text from the server on failure.
  result<pg_result> query(const std::string& sql, const std::vector<pg_param>& params = {}) {
    if (!c_) return make_error("pg_closed", "not connected");
    PGresult* r;
    if (params.empty()) {
      r = PQexec(c_, sql.c_str());
    } else {
      std::vector<const char*> p;
      p.reserve(params.size());
      for (const auto& x : params) p.push_back(x ? x->c_str() : nullptr);
      r = PQexecParams(c_, sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(), nullptr, nullptr, 0);
    }
    pg_result res(r);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      std::string m = r ? trim_pg_message(PQresultErrorMessage(r)) : errmsg();
      return make_error(ok() ? "pg_sql" : "pg_broken", m.empty() ? errmsg() : m);
    }
    return res;
  }
  result<void> exec(const std::string& sql, const std::vector<pg_param>& params = {}) {
    auto r = query(sql, params);
    if (!r) return r.err();
    return {};
  }

  // LISTEN support: the socket to poll, then the notifications that arrived (channel names).
  int socket() const { return c_ ? PQsocket(c_) : -1; }
  std::vector<std::string> notifications() {
    std::vector<std::string> out;
    if (!c_) return out;
    PQconsumeInput(c_);
    while (PGnotify* n = PQnotifies(c_)) {
      out.emplace_back(n->relname ? n->relname : "");
      PQfreemem(n);
    }
    return out;
  }

 private:
  PGconn* c_ = nullptr;
};

// Field helpers for result rows.
inline std::string pg_text(const pg_result& r, int row, int col) {
  return PQgetisnull(r.get(), row, col) ? std::string() : std::string(PQgetvalue(r.get(), row, col));
}
inline double pg_double(const pg_result& r, int row, int col, double dflt = 0) {
  if (PQgetisnull(r.get(), row, col)) return dflt;
  return std::strtod(PQgetvalue(r.get(), row, col), nullptr);
}
inline bool pg_null(const pg_result& r, int row, int col) { return PQgetisnull(r.get(), row, col) != 0; }
inline int pg_rows(const pg_result& r) { return PQntuples(r.get()); }

}  // namespace heartbeat::server::detail
