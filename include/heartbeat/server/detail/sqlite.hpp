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

// Owns one libsqlite3 object (a statement or a connection) and gives it back with `Release`
// when replaced or destroyed; movable, not copyable.
template <class T, int (*Release)(T*)>
class sqlite_handle {
 public:
  sqlite_handle() = default;
  explicit sqlite_handle(T* p) noexcept : p_(p) {}
  sqlite_handle(sqlite_handle&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  sqlite_handle& operator=(sqlite_handle&& o) noexcept {
    if (this != &o) replace(std::exchange(o.p_, nullptr));
    return *this;
  }
  sqlite_handle(const sqlite_handle&) = delete;
  sqlite_handle& operator=(const sqlite_handle&) = delete;
  ~sqlite_handle() { replace(nullptr); }

  T* get() const noexcept { return p_; }
  // Releases the object held and holds `p` instead.
  void replace(T* p) noexcept {
    if (p_) Release(p_);
    p_ = p;
  }

 protected:
  T* p_ = nullptr;
};

class sqlite_stmt : public sqlite_handle<sqlite3_stmt, sqlite3_finalize> {
 public:
  using sqlite_handle::sqlite_handle;

  explicit operator bool() const noexcept { return p_ != nullptr; }

  // Binding: 1-based indices, text is copied (SQLITE_TRANSIENT) only when
  // the caller's buffer may change before step(); we always step right away,
  // so SQLITE_STATIC is safe here.
  sqlite_stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(p_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  sqlite_stmt& bind(int i, double v) {
    sqlite3_bind_double(p_, i, v);
    return *this;
  }
  sqlite_stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(p_, i, v);
    return *this;
  }
  sqlite_stmt& bind_null(int i) {
    sqlite3_bind_null(p_, i);
    return *this;
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(p_); }
  void reset() {
    sqlite3_reset(p_);
    sqlite3_clear_bindings(p_);
  }
  // Runs a statement that returns no rows, then resets it for reuse.
  int run() {
    int rc = sqlite3_step(p_);
    sqlite3_reset(p_);
    sqlite3_clear_bindings(p_);
    return rc;
  }

  std::string_view text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(p_, col));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(p_, col)))
             : std::string_view();
  }
  double real(int col) const { return sqlite3_column_double(p_, col); }
  std::int64_t integer(int col) const { return sqlite3_column_int64(p_, col); }
};

class sqlite_db : public sqlite_handle<sqlite3, sqlite3_close_v2> {
 public:
  result<void> open(const std::string& path, bool read_only) {
    close();
    // Before SQLite initializes (the first open): no process-wide allocation statistics, which
    // cost every sqlite3_malloc/free a global mutex (measured: a tenth of the store writer's
    // CPU under a stream of PLGs). Nothing here reads them.
    static const int no_memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)no_memstatus;
    int flags =
        (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    replace(db);
    if (rc != SQLITE_OK) {
      std::string msg = p_ ? sqlite3_errmsg(p_) : sqlite3_errstr(rc);
      close();
      return make_error("store_open", "cannot open " + path + ": " + msg);
    }
    sqlite3_busy_timeout(p_, 5000);
    sqlite3_extended_result_codes(p_, 1);
    return {};
  }
  void close() { replace(nullptr); }
  bool is_open() const noexcept { return p_ != nullptr; }
  std::string errmsg() const { return p_ ? sqlite3_errmsg(p_) : "no database"; }

  result<void> exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(p_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      return make_error("store_sql", msg + " in: " + std::string(sql).substr(0, 80));
    }
    return {};
  }

  result<sqlite_stmt> prepare(std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(p_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s,
                                nullptr);
    if (rc != SQLITE_OK) return make_error("store_sql", errmsg() + " in: " + std::string(sql.substr(0, 80)));
    return sqlite_stmt(s);
  }
};

}  // namespace heartbeat::server::detail
