// A thin RAII layer over libsqlite3 for the store: a connection and prepared
// statements with result<> errors. Each connection is used by one thread.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "heartbeat/core/result.hpp"

namespace heartbeat::server::detail {

class sqlite_stmt {
 public:
  sqlite_stmt() = default;
  explicit sqlite_stmt(sqlite3_stmt* s) : s_(s) {}
  sqlite_stmt(sqlite_stmt&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  sqlite_stmt& operator=(sqlite_stmt&& o) noexcept {
    if (this != &o) {
      finalize();
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  sqlite_stmt(const sqlite_stmt&) = delete;
  sqlite_stmt& operator=(const sqlite_stmt&) = delete;
  ~sqlite_stmt() { finalize(); }

  explicit operator bool() const noexcept { return s_ != nullptr; }
  sqlite3_stmt* get() const noexcept { return s_; }

  // Binding: 1-based indices, text is copied (SQLITE_TRANSIENT) only when
  // the caller's buffer may change before step(); we always step right away,
  // so SQLITE_STATIC is safe here.
  sqlite_stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  sqlite_stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  sqlite_stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  sqlite_stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  // Runs a statement that returns no rows, then resets it for reuse.
  int run() {
    int rc = sqlite3_step(s_);
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return rc;
  }

  std::string_view text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string_view();
  }
  double real(int col) const { return sqlite3_column_double(s_, col); }
  std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  void finalize() {
    if (s_) sqlite3_finalize(s_);
    s_ = nullptr;
  }
  sqlite3_stmt* s_ = nullptr;
};

class sqlite_db {
 public:
  sqlite_db() = default;
  sqlite_db(sqlite_db&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  sqlite_db& operator=(sqlite_db&& o) noexcept {
    if (this != &o) {
      close();
      db_ = std::exchange(o.db_, nullptr);
    }
    return *this;
  }
  sqlite_db(const sqlite_db&) = delete;
  sqlite_db& operator=(const sqlite_db&) = delete;
  ~sqlite_db() { close(); }

  result<void> open(const std::string& path, bool read_only) {
    close();
    int flags =
        (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      close();
      return make_error("store_open", "cannot open " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 5000);
    sqlite3_extended_result_codes(db_, 1);
    return {};
  }
  void close() {
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
  }
  bool is_open() const noexcept { return db_ != nullptr; }
  sqlite3* get() const noexcept { return db_; }
  std::string errmsg() const { return db_ ? sqlite3_errmsg(db_) : "no database"; }

  result<void> exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      return make_error("store_sql", msg + " in: " + std::string(sql).substr(0, 80));
    }
    return {};
  }

  result<sqlite_stmt> prepare(std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s,
                                nullptr);
    if (rc != SQLITE_OK) return make_error("store_sql", errmsg() + " in: " + std::string(sql.substr(0, 80)));
    return sqlite_stmt(s);
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace heartbeat::server::detail
