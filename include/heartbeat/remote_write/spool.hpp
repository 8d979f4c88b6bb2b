// The on-disk spool of one remote write target: compressed WriteRequests that could not be sent yet,
// in append-only segment files (NNNNNNNNNNNNNNNNNNNN.seg), each fsynced when it is closed, read
// back oldest first. A small `cursor` file names the next record to send, so a restart (after
// SIGTERM or kill -9) resumes where the last run stopped; a torn record at a segment's end (a crash
// while appending) is cut off. Bounded by max_bytes: the oldest segments are dropped first and
// their samples counted. Owned and used by the target's sender thread only.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/server/detail/persist_util.hpp"

namespace heartbeat::remote_write {

class spool {
 public:
  // Where a record starts: segment id and byte offset.
  struct position {
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;
    bool operator==(const position&) const = default;
  };
  struct record {
    position at;
    std::uint32_t samples = 0;
    std::string payload;
  };

  static constexpr std::uint32_t max_payload = 64u << 20;

  spool(std::string dir, std::uint64_t max_bytes)
      : dir_(std::move(dir)),
        max_bytes_(max_bytes),
        segment_bytes_(std::clamp<std::uint64_t>(max_bytes / 8, 64 << 10, 64 << 20)) {}
  spool(const spool&) = delete;
  spool& operator=(const spool&) = delete;
  ~spool() { close(); }

  // Creates the directory, takes its lock (one hbd per spool) and reads what an earlier run left.
  result<void> open() {
    if (auto r = server::detail::make_dirs(dir_); !r) return r;
    lock_fd_ = ::open((dir_ + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
      return make_error("spool_locked", "spool_dir " + dir_ + " is in use by another process");
    cursor_fd_ = ::open((dir_ + "/cursor").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (cursor_fd_ < 0)
      return make_error("spool_open", "cannot open " + dir_ + "/cursor: " + std::strerror(errno));
    position cur{};
    std::uint64_t raw[2] = {0, 0};
    if (::pread(cursor_fd_, raw, sizeof raw, 0) == static_cast<ssize_t>(sizeof raw)) cur = {raw[0], raw[1]};
    for (std::uint64_t id : list_segments()) {
      if (id < cur.segment) {
        ::unlink(segment_path(id).c_str());
        continue;
      }
      segment s;
      s.id = id;
      s.read_from = id == cur.segment ? cur.offset : 0;
      scan(s);
      if (s.read_from >= s.size) {
        ::unlink(segment_path(id).c_str());
        continue;
      }
      segs_.push_back(s);
      next_id_ = id + 1;
    }
    next_id_ = std::max(next_id_, cur.segment + 1);
    return {};
  }

  // fsyncs and closes the segment being written, and the files.
  void close() {
    close_active();
    for (int* fd : {&read_fd_, &cursor_fd_, &lock_fd_})
      if (*fd >= 0) {
        ::close(*fd);
        *fd = -1;
      }
  }

  // No record waits (a segment still open for appending may be fully sent).
  bool empty() const noexcept {
    for (const auto& s : segs_)
      if (s.read_from < s.size) return false;
    return true;
  }
  // Bytes of records not sent yet, and their samples.
  std::uint64_t bytes() const noexcept {
    std::uint64_t n = 0;
    for (const auto& s : segs_) n += s.size - s.read_from;
    return n;
  }
  std::uint64_t samples() const noexcept {
    std::uint64_t n = 0;
    for (const auto& s : segs_) n += s.samples;
    return n;
  }
  std::uint64_t dropped_samples() const noexcept { return dropped_samples_; }

  // Appends a record; first drops the oldest segments while the spool would exceed max_bytes
  // (their samples are counted in dropped_samples()).
  result<void> append(std::uint32_t samples, std::string_view payload) {
    const std::uint64_t need = header_bytes + payload.size();
    while (!segs_.empty() && file_bytes() + need > max_bytes_) drop_oldest();
    if (active_fd_ < 0 || segs_.empty() || segs_.back().id != active_id_ ||
        segs_.back().size >= segment_bytes_) {
      if (auto r = open_active(); !r) return r;
    }
    segment& s = segs_.back();
    std::uint32_t h[3] = {
        static_cast<std::uint32_t>(payload.size()), samples,
        static_cast<std::uint32_t>(
            ::crc32(0, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())))};
    iovec iov[2] = {{h, sizeof h}, {const_cast<char*>(payload.data()), payload.size()}};
    ssize_t n = ::writev(active_fd_, iov, 2);
    if (n != static_cast<ssize_t>(need)) {
      std::string why = n < 0 ? std::strerror(errno) : "short write";
      // Whatever part was written is cut off again, so the segment stays readable.
      if (n > 0 && ::ftruncate(active_fd_, static_cast<off_t>(s.size)) != 0) close_active();
      return make_error("spool_write", "cannot write to " + segment_path(s.id) + ": " + why);
    }
    s.size += need;
    s.samples += samples;
    return {};
  }

  // The oldest record not sent yet (false when the spool is empty or unreadable at that point, in
  // which case the rest of that segment is skipped and counted as dropped).
  bool front(record& out) {
    while (!segs_.empty()) {
      segment& s = segs_.front();
      if (s.read_from < s.size && read_record(s, s.read_from, out)) return true;
      if (s.read_from < s.size) {
        log::warn("remote_write: spool ", segment_path(s.id), ": unreadable record at ", s.read_from,
                  ", skipping the rest of the segment");
        dropped_samples_ += s.samples;
      }
      drop_front_segment();
    }
    return false;
  }

  // The record at `at` was sent (or given up): the cursor moves past it. A record that is no longer
  // the oldest (its segment was dropped meanwhile) changes nothing.
  void pop(const position& at, std::uint32_t samples, std::uint64_t record_bytes) {
    if (segs_.empty() || segs_.front().id != at.segment || segs_.front().read_from != at.offset) return;
    segment& s = segs_.front();
    s.read_from += record_bytes;
    s.samples -= std::min<std::uint64_t>(s.samples, samples);
    if (s.read_from >= s.size && s.id != active_id_)
      drop_front_segment();
    else
      save_cursor({s.id, s.read_from});
  }

  static constexpr std::uint64_t header_bytes =
      12;  // u32 payload length, u32 samples, u32 CRC-32 of the payload

 private:
  struct segment {
    std::uint64_t id = 0;
    std::uint64_t size = 0;       // bytes of whole records in the file
    std::uint64_t read_from = 0;  // the next record to send
    std::uint64_t samples = 0;    // samples in records not sent yet
  };

  std::string dir_;
  std::uint64_t max_bytes_;
  std::uint64_t segment_bytes_;
  std::deque<segment> segs_;  // oldest first; the last one may be the one being written
  std::uint64_t next_id_ = 1;
  std::uint64_t active_id_ = 0;
  int active_fd_ = -1;
  int read_fd_ = -1;
  std::uint64_t read_id_ = 0;
  int cursor_fd_ = -1;
  int lock_fd_ = -1;
  std::uint64_t dropped_samples_ = 0;

  std::string segment_path(std::uint64_t id) const {
    char name[32];
    std::snprintf(name, sizeof name, "/%020llu.seg", static_cast<unsigned long long>(id));
    return dir_ + name;
  }

  std::vector<std::uint64_t> list_segments() const {
    std::vector<std::uint64_t> ids;
    if (DIR* d = ::opendir(dir_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n.size() != 24 || !n.ends_with(".seg")) continue;
        if (!std::all_of(n.begin(), n.begin() + 20, [](char c) { return c >= '0' && c <= '9'; })) continue;
        ids.push_back(std::stoull(std::string(n.substr(0, 20))));
      }
      ::closedir(d);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  std::uint64_t file_bytes() const noexcept {
    std::uint64_t n = 0;
    for (const auto& s : segs_) n += s.size;
    return n;
  }

  // Counts the whole records from read_from on; cuts a torn or corrupt tail off the file.
  void scan(segment& s) {
    std::string path = segment_path(s.id);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    std::uint64_t file_size = ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    std::uint64_t off = s.read_from;
    std::string buf;
    while (off + header_bytes <= file_size) {
      std::uint32_t h[3];
      if (::pread(fd, h, sizeof h, static_cast<off_t>(off)) != static_cast<ssize_t>(sizeof h)) break;
      if (h[0] > max_payload || off + header_bytes + h[0] > file_size) break;
      buf.resize(h[0]);
      if (::pread(fd, buf.data(), h[0], static_cast<off_t>(off + header_bytes)) != static_cast<ssize_t>(h[0]))
        break;
      if (::crc32(0, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(buf.size())) != h[2])
        break;
      off += header_bytes + h[0];
      s.samples += h[1];
    }
    if (off < file_size) {
      log::warn("remote_write: spool ", path, ": cutting ", file_size - off,
                " bytes of an incomplete record");
      if (::ftruncate(fd, static_cast<off_t>(off)) != 0)
        log::warn("remote_write: spool ", path, ": ", std::strerror(errno));
    }
    s.size = off;
    ::close(fd);
  }

  bool read_record(const segment& s, std::uint64_t off, record& out) {
    if (read_fd_ < 0 || read_id_ != s.id) {
      if (read_fd_ >= 0) ::close(read_fd_);
      read_fd_ = ::open(segment_path(s.id).c_str(), O_RDONLY | O_CLOEXEC);
      read_id_ = s.id;
      if (read_fd_ < 0) return false;
    }
    std::uint32_t h[3];
    if (::pread(read_fd_, h, sizeof h, static_cast<off_t>(off)) != static_cast<ssize_t>(sizeof h))
      return false;
    if (h[0] > max_payload || off + header_bytes + h[0] > s.size) return false;
    out.payload.resize(h[0]);
    if (::pread(read_fd_, out.payload.data(), h[0], static_cast<off_t>(off + header_bytes)) !=
        static_cast<ssize_t>(h[0]))
      return false;
    if (::crc32(0, reinterpret_cast<const Bytef*>(out.payload.data()), static_cast<uInt>(h[0])) != h[2])
      return false;
    out.at = {s.id, off};
    out.samples = h[1];
    return true;
  }

  result<void> open_active() {
    close_active();
    std::uint64_t id = next_id_++;
    std::string path = segment_path(id);
    active_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
    if (active_fd_ < 0)
      return make_error("spool_open", "cannot create " + path + ": " + std::strerror(errno));
    active_id_ = id;
    segs_.push_back(segment{id, 0, 0, 0});
    sync_dir();
    return {};
  }

  // A segment is complete: its data and the directory entry go to disk.
  void close_active() {
    if (active_fd_ < 0) return;
    if (::fsync(active_fd_) != 0) log::warn("remote_write: spool ", dir_, ": fsync: ", std::strerror(errno));
    ::close(active_fd_);
    active_fd_ = -1;
    active_id_ = 0;
  }

  void sync_dir() {
    int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
  }

  void drop_front_segment() {
    segment s = segs_.front();
    segs_.pop_front();
    if (s.id == active_id_) close_active();
    if (read_fd_ >= 0 && read_id_ == s.id) {
      ::close(read_fd_);
      read_fd_ = -1;
    }
    ::unlink(segment_path(s.id).c_str());
    save_cursor(segs_.empty() ? position{next_id_, 0} : position{segs_.front().id, segs_.front().read_from});
  }

  void drop_oldest() {
    dropped_samples_ += segs_.front().samples;
    drop_front_segment();
  }

  void save_cursor(position p) {
    if (cursor_fd_ < 0) return;
    std::uint64_t raw[2] = {p.segment, p.offset};
    if (::pwrite(cursor_fd_, raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw))
      log::warn("remote_write: spool ", dir_, ": cannot write the cursor: ", std::strerror(errno));
  }
};

}  // namespace heartbeat::remote_write
