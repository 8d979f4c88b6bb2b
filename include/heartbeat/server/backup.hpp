// Backup and restore of the SQLite store (state_db) for `hbd backup FILE` and `hbd restore FILE`,
// and the lock that tells whether an hbd uses a store: hbd holds an exclusive flock(2) on
// "<state_db>.lock" while it runs (a separate file, so that no descriptor of ours ever touches the
// POSIX locks SQLite keeps on the database itself). The backup goes through SQLite's online
// backup API, which copies a consistent snapshot while hbd keeps writing (WAL). Main thread of
// the command, or hbd's start-up.
#pragma once

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "heartbeat/core/result.hpp"
#include "heartbeat/server/detail/persist_util.hpp"
#include "heartbeat/server/detail/sqlite.hpp"

namespace heartbeat::server {

// An exclusive lock on "<state_db>.lock", released when the object goes (or the process dies).
class store_lock {
 public:
  store_lock() = default;
  store_lock(store_lock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  store_lock& operator=(store_lock&& o) noexcept {
    if (this != &o) {
      release();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  store_lock(const store_lock&) = delete;
  store_lock& operator=(const store_lock&) = delete;
  ~store_lock() { release(); }

  static std::string path_for(const std::string& db) { return db + ".lock"; }

  // Takes the lock without waiting; the error "in_use" when someone holds it.
  static result<store_lock> acquire(const std::string& db) {
    if (auto r = detail::make_dirs(detail::parent_dir(db)); !r) return r.err();
    std::string p = path_for(db);
    int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return make_error("io", "cannot open " + p + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      ::close(fd);
      if (e == EWOULDBLOCK) return make_error("in_use", db + " is in use by a running hbd");
      return make_error("io", "cannot lock " + p + ": " + std::strerror(e));
    }
    store_lock l;
    l.fd_ = fd;
    return l;
  }

 private:
  int fd_ = -1;
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
};

namespace detail {

// Copies every page of `from` into `to` (SQLite's online backup API), retrying while the source
// is busy for at most ten seconds.
inline result<void> copy_database(sqlite_db& from, sqlite_db& to) {
  sqlite3_backup* b = sqlite3_backup_init(to.get(), "main", from.get(), "main");
  if (!b) return make_error("backup", to.errmsg());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int rc;
  while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return make_error("backup", std::string("copy failed: ") + sqlite3_errstr(rc));
  return {};
}

// "ok" from PRAGMA quick_check, and the tables of a Heartbeat store.
inline result<void> check_store_file(sqlite_db& db, const std::string& name) {
  auto st = db.prepare("PRAGMA quick_check");
  if (!st) return st.err();
  if (st->step() != SQLITE_ROW || st->text(0) != "ok")
    return make_error("corrupt", name + " fails SQLite's quick_check");
  // plugin_history is a table up to schema version 1, a view since 2 (docs/STORAGE.md).
  auto t = db.prepare(
      "SELECT count(*) FROM sqlite_master WHERE type IN ('table','view') AND name IN "
      "('schema_version','hosts','plugin_history')");
  if (!t) return t.err();
  if (t->step() != SQLITE_ROW || t->integer(0) != 3)
    return make_error("not_a_store", name + " is not a Heartbeat store (state_db)");
  return {};
}

inline result<void> sync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("io", "cannot open " + path + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return make_error("io", "cannot sync " + path + ": " + std::strerror(errno));
  return {};
}

// Copies `from` (any SQLite file) into a new standalone file `to_tmp` (rollback journal, no WAL
// beside it), checked with quick_check.
inline result<void> write_copy(sqlite_db& from, const std::string& to_tmp) {
  ::unlink(to_tmp.c_str());
  sqlite_db to;
  if (auto r = to.open(to_tmp, false); !r) return r;
  if (auto r = copy_database(from, to); !r) return r;
  if (auto r = to.exec("PRAGMA journal_mode=DELETE"); !r) return r;
  if (auto r = check_store_file(to, to_tmp); !r) return r;
  to.close();
  return sync_file(to_tmp);
}

}  // namespace detail

// Writes a consistent copy of the store `db` to `file` (replaced atomically; mode 0600: it holds
// password hashes). Works while an hbd writes to `db`. Returns the copy's size in bytes.
inline result<std::uint64_t> backup_store(const std::string& db, const std::string& file) {
  struct stat st {};
  if (::stat(db.c_str(), &st) != 0) return make_error("io", "state_db " + db + ": " + std::strerror(errno));
  // Opened read-write (it exists): a reader of a WAL database may have to make its -shm index.
  detail::sqlite_db src;
  if (auto r = src.open(db, false); !r) return r.err();
  std::string tmp = file + ".tmp";
  mode_t old = ::umask(077);
  auto w = detail::write_copy(src, tmp);
  ::umask(old);
  src.close();
  if (!w) {
    ::unlink(tmp.c_str());
    return w.err();
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return make_error("io", "cannot write " + file + ": " + std::strerror(e));
  }
  struct stat out {};
  ::stat(file.c_str(), &out);
  return static_cast<std::uint64_t>(out.st_size);
}

// Replaces the store `db` with the backup `file`; refused (error "in_use") while an hbd runs on
// it. The store replaced is kept as "<db>.before-restore". Run as root, the new file gets the
// owner of the one it replaces (or of its directory).
inline result<void> restore_store(const std::string& file, const std::string& db) {
  auto lock = store_lock::acquire(db);
  if (!lock) {
    if (lock.err().code == "in_use")
      return make_error("in_use", db + " is in use by a running hbd: stop it first");
    return lock.err();
  }
  detail::sqlite_db src;
  if (auto r = src.open(file, true); !r) return r;
  if (auto r = detail::check_store_file(src, file); !r) return r;
  std::string tmp = db + ".restore";
  mode_t old_mask = ::umask(027);
  auto w = detail::write_copy(src, tmp);
  ::umask(old_mask);
  src.close();
  if (!w) {
    ::unlink(tmp.c_str());
    return w.err();
  }
  struct stat owner {};
  bool have_owner = ::stat(db.c_str(), &owner) == 0 || ::stat(detail::parent_dir(db).c_str(), &owner) == 0;
  if (::geteuid() == 0 && have_owner) (void)::chown(tmp.c_str(), owner.st_uid, owner.st_gid);
  // The old store's WAL belongs to the old file: it must not be replayed into the new one.
  struct stat st {};
  if (::stat(db.c_str(), &st) == 0) {
    detail::sqlite_db flush;  // folds a WAL left by a crash into the file that is kept aside
    if (flush.open(db, false)) (void)flush.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    flush.close();
    if (::rename(db.c_str(), (db + ".before-restore").c_str()) != 0)
      return make_error("io", "cannot move " + db + " aside: " + std::strerror(errno));
  }
  for (const char* suffix : {"-wal", "-shm", "-journal"}) ::unlink((db + suffix).c_str());
  if (::rename(tmp.c_str(), db.c_str()) != 0)
    return make_error("io", "cannot write " + db + ": " + std::strerror(errno));
  return {};
}

}  // namespace heartbeat::server
