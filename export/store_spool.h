#pragma once
// Traces the store could not write in time (its queue full during a burst, or still queued at the
// shutdown deadline), kept on disk beside the store: <store>-spool/*.spool, 0600 in a 0700
// directory. The store writes them in later, when its queue is empty, in this process or the next
// one that opens the store; nothing is dropped. A segment being appended to is held with flock(), so
// a second process on the same store never takes it.
//   segment := record*      record := u32 length, u32 crc32, encode_trace() bytes (little-endian)
// A record cut short or failing its checksum (a crash mid-append) ends the segment.
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/span.h"

namespace llmtap::exporting {

class StoreSpool {
 public:
  // MAX_BYTES caps the spool directory's segments on disk (0: no cap).
  explicit StoreSpool(std::string dir, std::uint64_t max_bytes = 0) : dir_(std::move(dir)), max_bytes_(max_bytes) {}
  ~StoreSpool();
  StoreSpool(const StoreSpool&) = delete;
  StoreSpool& operator=(const StoreSpool&) = delete;

  // Appends TRACE to this process's open segment (created on first use). Thread-safe. false and
  // *error (the path and OS reason) if it could not be written; false and *full when it would take
  // the spool past its cap (nothing written).
  bool append(const Trace& trace, std::string* error, bool* full = nullptr);
  // Appends TRACES in order, encoded and written a megabyte at a time (a stop's deadline spools a
  // whole queue): how many were written, the first ones; fewer on an error or at the cap, as above.
  // kMoved: traces read back from a segment that is removed once they are appended (a stop's
  // read-ahead), so not held to the cap, like append_moved().
  enum class Cap { kHeld, kMoved };
  std::size_t append_all(std::span<const Trace> traces, std::string* error, bool* full = nullptr,
                         Cap cap = Cap::kHeld);
  // Appends records already encoded: BUFFERED, then FROM's bytes from its file offset to its end
  // (SpoolSegment::finish moving a segment's unread rest). Not held to the cap: those bytes are on
  // disk already. false and *error if they could not all be written.
  bool append_moved(std::string_view buffered, int from, std::string* error);
  // Bytes of segments in the directory (every process's), as last counted plus this process's
  // appends since. recount() after removing segments.
  std::uint64_t disk_bytes() const;
  void recount();
  std::uint64_t max_bytes() const { return max_bytes_; }
  // Closes the open segment: its path and record count (0 if none) for the caller to ingest.
  std::pair<std::string, std::uint64_t> rotate();
  std::uint64_t open_records() const;
  // Segments no live writer holds, oldest first (left by earlier runs, or rotated by this one).
  std::vector<std::string> segments() const;
  const std::string& dir() const { return dir_; }

 private:
  bool open_segment(std::string* error);
  std::uint64_t usage_locked() const;  // under mu_

  std::string dir_;
  std::uint64_t max_bytes_;
  mutable std::mutex mu_;
  mutable std::uint64_t usage_ = 0;
  mutable bool usage_known_ = false;
  int fd_ = -1;
  std::string path_;
  std::uint64_t records_ = 0, seq_ = 0;
};

// Reads one segment, holding its lock; nullptr when it is gone or another process holds it.
class SpoolSegment {
 public:
  static std::unique_ptr<SpoolSegment> claim(const std::string& path);
  ~SpoolSegment();
  // The next trace; false at the end (or at a damaged record: damaged() then).
  bool next(Trace& out);
  bool damaged() const { return damaged_; }
  // Removes the segment, keeping its unread records (if any) in a new segment of SPOOL first,
  // moved as they are (not decoded again).
  // false and *error if the rest could not be kept (the segment then stays as it is).
  bool finish(StoreSpool& spool, std::string* error);
  const std::string& path() const { return path_; }

 private:
  SpoolSegment(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  bool fill(std::size_t need);

  std::string path_;
  int fd_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false, damaged_ = false;
};

// Traces waiting in the spool directory DIR (every segment, held or not).
std::uint64_t count_spooled(const std::string& dir);

}  // namespace llmtap::exporting
