// The message journal: every accepted datagram and every state / alert event
// as one JSON line in journal_dir/journal_file, rotated by size. The io thread
// (the only producer) formats nothing, allocates nothing and never blocks: it
// copies the pieces into a bounded byte ring (core/byte_ring.hpp) that a writer
// thread drains; a full ring drops the line and counts it. The writer thread
// owns the file, rotation and fsync.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "heartbeat/bus/events.hpp"
#include "heartbeat/core/byte_ring.hpp"
#include "heartbeat/core/clock.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/log.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/core/worker_thread.hpp"
#include "heartbeat/server/detail/persist_util.hpp"

namespace heartbeat::server {

struct journal_options {
  bool enabled = true;                            // journal_enabled
  std::string dir = "/var/log/heartbeat";         // journal_dir
  std::string file = "messages.journal";          // journal_file
  std::uint64_t max_size = 104857600;             // journal_max_size (bytes); 0 = never rotate
  unsigned max_backups = 10;                      // journal_max_backups (messages.journal.1 ... .N)
  std::size_t queue_bytes = 4 << 20;              // ring between io and writer thread (~20k HTB lines)
  std::chrono::milliseconds sync_interval{1000};  // fdatasync at most this often while writing
};

struct journal_stats {
  std::uint64_t lines_written = 0;  // lines that reached the file
  std::uint64_t dropped = 0;        // lines refused: the queue was full, or shed
  std::uint64_t shed = 0;           // of those, datagram lines refused to keep room for event lines
  std::uint64_t write_errors = 0;   // lines lost to a failing write(2)
  std::uint64_t rotations = 0;
  std::uint64_t bytes_written = 0;
  std::size_t queue_depth = 0;  // lines in flight
  std::size_t queue_bytes = 0;  // bytes in flight (headers included)
  std::size_t queue_capacity_bytes = 0;
};

class journal {
 public:
  explicit journal(journal_options o) : opt_(std::move(o)), q_(opt_.queue_bytes) {}
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;
  ~journal() { stop(); }

  const journal_options& options() const noexcept { return opt_; }
  std::string path() const { return opt_.dir.empty() ? opt_.file : opt_.dir + "/" + opt_.file; }
  bool running() const noexcept { return worker_.running(); }

  // Creates the directory, opens the file for appending and starts the writer
  // thread. A disabled journal starts nothing and accepts nothing.
  result<void> start() {
    if (!opt_.enabled || running()) return {};
    if (auto r = detail::make_dirs(opt_.dir); !r) return r;
    if (auto r = open_file(); !r) return r;
    worker_.start([this] { run(); });
    return {};
  }

  // Drains every queued line, fsyncs and closes (io thread, at shutdown).
  void stop() {
    worker_.stop([this] { q_.wake(); });
  }

  // Asks the writer to reopen the file (after an external logrotate); any thread.
  void reopen() {
    reopen_.store(true);
    q_.wake();
  }

  // Journals one accepted datagram: `message_json` is the message's JSON text
  // as received (envelope removed). io thread only; never blocks. Returns
  // false when the line was dropped (queue full) or the journal is off.
  bool append_message(std::string_view source_ip, std::uint16_t source_port, double ts,
                      std::string_view message_json) {
    if (!running()) return false;
    // Under overload the datagram lines (the detail) go first: the last quarter of the queue
    // stays for state changes, alerts and notifications.
    if (q_.used() > q_.capacity() - q_.capacity() / 4) {
      shed_.fetch_add(1, std::memory_order_relaxed);
      dropped_.fetch_add(1, std::memory_order_relaxed);
      shed_log_.warn(clock::mono_now(), "journal: falling behind, datagram lines shed (events first; ",
                     "heartbeat_queue_shed_total{queue=\"journal\"})");
      return false;
    }
    return push(ts, nullptr, source_port, source_ip, message_json);
  }

  // Journals an event as {"timestamp","datetime","event","host","data"}. io thread only.
  bool append_event(const bus::event& e) {
    if (!running()) return false;
    scratch_.clear();
    e.data.dump_to(scratch_);
    return push(e.ts, to_string(e.kind), 0, e.host, scratch_);
  }

  // Journals another part's record as {"timestamp","datetime","event":kind,"host","data"},
  // e.g. kind "notification" for notify::journal_record::to_json(). `kind` must
  // outlive the journal (a string literal). io thread only; never blocks.
  bool append_record(const char* kind, double ts, std::string_view host, const json::value& data) {
    if (!running()) return false;
    scratch_.clear();
    data.dump_to(scratch_);
    return push(ts, kind, 0, host, scratch_);
  }

  // The event-bus sink: journals state and alert events. Plugin and message
  // events are skipped (their datagrams are journaled by append_message), and
  // a host event only when its state or a connection's state/address changed,
  // so a heartbeat that only moves last_seen adds no second line.
  bus::event_sink sink() {
    return [this](const bus::event& e) {
      if (e.kind == bus::event_kind::plugin || e.kind == bus::event_kind::message) return;
      if (e.kind == bus::event_kind::host) {
        // The signature's hash, not its text: a million hosts' signatures cost 8 bytes each.
        const std::uint64_t sig = std::hash<std::string>{}(host_signature(e.data)) | 1;  // 0: none yet
        auto& last = last_host_sig_[e.host];
        if (last == sig) return;
        last = sig;
      } else if (e.kind == bus::event_kind::dropped) {
        last_host_sig_.erase(e.host);
      }
      append_event(e);
    };
  }

  journal_stats stats() const {
    journal_stats s;
    s.lines_written = lines_written_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.shed = shed_.load(std::memory_order_relaxed);
    s.write_errors = write_errors_.load(std::memory_order_relaxed);
    s.rotations = rotations_.load(std::memory_order_relaxed);
    s.bytes_written = bytes_written_.load(std::memory_order_relaxed);
    std::uint64_t pushed = pushed_.load(std::memory_order_relaxed);
    std::uint64_t popped = popped_.load(std::memory_order_relaxed);
    s.queue_depth = pushed > popped ? static_cast<std::size_t>(pushed - popped) : 0;
    s.queue_bytes = q_.used();
    s.queue_capacity_bytes = q_.capacity();
    return s;
  }

  // One line as the writer formats it (public for tests and tools).
  static void format_message_line(std::string& out, double ts, std::string_view ip, std::uint16_t port,
                                  std::string_view body) {
    line_start(out, ts);
    out.append(",\"source_ip\":");
    json::write_string(out, ip);
    out.append(",\"source_port\":");
    json::write_number(out, port);
    line_end(out, "message", body);
  }
  static void format_event_line(std::string& out, double ts, std::string_view kind, std::string_view host,
                                std::string_view body) {
    line_start(out, ts);
    out.append(",\"event\":");
    json::write_string(out, kind);
    out.append(",\"host\":");
    json::write_string(out, host);
    line_end(out, "data", body);
  }

 private:
  // While lines keep coming they reach the file at most this late (or when the ring is a quarter full).
  static constexpr std::chrono::milliseconds nap_max{250};

  // A ring record: this header, then `who` (source ip, or the event's host),
  // then the JSON body.
  struct record {
    double ts;
    const char* kind;  // null: a datagram; else the event kind (a string literal)
    std::uint16_t port;
    std::uint16_t who_len;
    std::uint32_t body_len;
  };

  // Every line opens with the time as a number and as UTC text (docs/STORAGE.md "Line format")
  // and closes with its JSON payload under `key`.
  static void line_start(std::string& out, double ts) {
    out.append("{\"timestamp\":");
    json::write_number(out, ts);
    out.append(",\"datetime\":\"");
    detail::append_iso_utc(out, ts);
    out.push_back('"');
  }
  static void line_end(std::string& out, std::string_view key, std::string_view body) {
    out.append(",\"");
    out.append(key);
    out.append("\":");
    append_body(out, body);
    out.append("}\n");
  }

  // Valid JSON carries line breaks only as whitespace between tokens (inside
  // strings they are escaped), so replacing them keeps the text valid and
  // the entry on one line.
  static void append_body(std::string& out, std::string_view body) {
    if (body.empty()) {
      out.append("null");
      return;
    }
    std::size_t start = out.size();
    out.append(body);
    if (!std::memchr(body.data(), '\n', body.size()) && !std::memchr(body.data(), '\r', body.size()))
      return;  // the usual case, found with two vectorised scans
    for (std::size_t i = start; i < out.size(); ++i)
      if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
  }

  static std::string host_signature(const json::value& h) {
    std::string sig = h.string_or("state", "");
    if (const json::value* conns = h.find("connections"); conns && conns->is_array()) {
      for (const auto& c : conns->as_array()) {
        sig += '|';
        sig += c.string_or("family", "");
        sig += ':';
        sig += c.string_or("state", "");
        sig += ':';
        sig += c.string_or("address", "");
      }
    }
    return sig;
  }

  bool push(double ts, const char* kind, std::uint16_t port, std::string_view who, std::string_view body) {
    who = who.substr(0, 0xffff);
    std::byte* p =
        body.size() <= 0xffffffffu ? q_.prepare(sizeof(record) + who.size() + body.size()) : nullptr;
    if (!p) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      drop_log_.warn(clock::mono_now(),
                     "journal: queue full, lines dropped (heartbeat_queue_dropped_total{queue=\"journal\"})");
      return false;
    }
    record h{ts, kind, port, static_cast<std::uint16_t>(who.size()), static_cast<std::uint32_t>(body.size())};
    std::memcpy(p, &h, sizeof h);
    std::memcpy(p + sizeof h, who.data(), who.size());
    std::memcpy(p + sizeof h + who.size(), body.data(), body.size());
    q_.commit();
    pushed_.store(pushed_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return true;
  }

  result<void> open_file() {
    std::string p = path();
    fd_ = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) return make_error("journal_open", "cannot open journal " + p + ": " + std::strerror(errno));
    struct stat st {};
    size_ = ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    return {};
  }

  void run() {
    std::string line;
    line.reserve(1024);
    auto last_sync = std::chrono::steady_clock::now();
    for (;;) {
      bool stopping = worker_.stopping();
      bool got = false;
      if (reopen_.exchange(false)) {
        flush_buffer();
        close_file();
        if (auto r = open_file(); !r) log::error("journal: ", r.err().message);
      }
      std::span<const std::byte> rec;
      while (q_.front(rec)) {
        got = true;
        record h;
        std::memcpy(&h, rec.data(), sizeof h);
        const char* text = reinterpret_cast<const char*>(rec.data()) + sizeof h;
        std::string_view who(text, h.who_len), body(text + h.who_len, h.body_len);
        line.clear();
        if (h.kind)
          format_event_line(line, h.ts, h.kind, who, body);
        else
          format_message_line(line, h.ts, who, h.port, body);
        q_.pop();
        popped_.fetch_add(1, std::memory_order_relaxed);
        write_line(line);
      }
      flush_buffer();
      auto now = std::chrono::steady_clock::now();
      if (dirty_ && now - last_sync >= opt_.sync_interval) {
        if (fd_ >= 0) ::fdatasync(fd_);
        dirty_ = false;
        last_sync = now;
      }
      if (stopping) break;
      // While lines keep coming, nap between batches (the ring wakes us when a
      // quarter full): waking a sleeping consumer would cost the io thread a
      // futex call per line, and polling would wake this thread hundreds of
      // times a second. Idle, sleep until a line comes or the next fdatasync.
      const auto sync_in =
          std::chrono::duration_cast<std::chrono::milliseconds>(last_sync + opt_.sync_interval - now);
      if (got)
        q_.nap(std::clamp(sync_in, std::chrono::milliseconds(1), nap_max));
      else
        q_.wait(dirty_ ? std::max(sync_in, std::chrono::milliseconds(1))
                       : std::chrono::milliseconds(3600 * 1000));
    }
    close_file();
  }

  void write_line(const std::string& line) {
    // Rotate before a line that would pass the limit, so a line is never split
    // (a line larger than the limit gets a file of its own).
    if (opt_.max_size && size_ + buf_.size() > 0 && size_ + buf_.size() + line.size() > opt_.max_size) {
      flush_buffer();
      rotate();
    }
    buf_ += line;
    ++buf_lines_;
    if (buf_.size() >= 64 * 1024) flush_buffer();
  }

  void flush_buffer() {
    if (buf_.empty()) return;
    std::size_t off = 0;
    bool failed = fd_ < 0;
    while (!failed && off < buf_.size()) {
      ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        failed = true;
        break;
      }
      off += static_cast<std::size_t>(n);
    }
    if (failed) {
      std::uint64_t prev = write_errors_.fetch_add(buf_lines_, std::memory_order_relaxed);
      if (prev == 0 || (prev / 1000) != ((prev + buf_lines_) / 1000))
        log::error("journal: write to ", path(), " failed: ", std::strerror(errno));
    } else {
      lines_written_.fetch_add(buf_lines_, std::memory_order_relaxed);
      bytes_written_.fetch_add(buf_.size(), std::memory_order_relaxed);
      dirty_ = true;
    }
    size_ += off;
    buf_.clear();
    buf_lines_ = 0;
  }

  void rotate() {
    std::string p = path();
    close_file();
    if (opt_.max_backups == 0) {
      ::unlink(p.c_str());
    } else {
      // Shift only the backups that exist (.1 .. .k, k < max_backups), dropping .max_backups.
      unsigned k = 0;
      struct stat st {};
      while (k < opt_.max_backups && ::stat((p + "." + std::to_string(k + 1)).c_str(), &st) == 0) ++k;
      if (k == opt_.max_backups) {
        ::unlink((p + "." + std::to_string(k)).c_str());
        --k;
      }
      for (unsigned i = k + 1; i > 1; --i)
        ::rename((p + "." + std::to_string(i - 1)).c_str(), (p + "." + std::to_string(i)).c_str());
      ::rename(p.c_str(), (p + ".1").c_str());
    }
    rotations_.fetch_add(1, std::memory_order_relaxed);
    if (auto r = open_file(); !r) log::error("journal: ", r.err().message);
  }

  void close_file() {
    if (fd_ < 0) return;
    ::fdatasync(fd_);
    ::close(fd_);
    fd_ = -1;
    dirty_ = false;
  }

  journal_options opt_;
  byte_ring q_;
  worker_thread worker_;
  std::atomic<bool> reopen_{false};
  // Writer thread only.
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string buf_;
  std::uint64_t buf_lines_ = 0;
  bool dirty_ = false;
  // io thread only (the sink's dedup of host events; event body text).
  std::unordered_map<std::string, std::uint64_t> last_host_sig_;  // host -> hash of host_signature
  std::string scratch_;
  std::atomic<std::uint64_t> pushed_{0}, popped_{0};
  log::limited shed_log_, drop_log_;  // io thread
  std::atomic<std::uint64_t> lines_written_{0}, dropped_{0}, shed_{0}, write_errors_{0}, rotations_{0},
      bytes_written_{0};
};

}  // namespace heartbeat::server
