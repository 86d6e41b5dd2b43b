#pragma once
// Where AsyncTap defers capture it cannot hold in memory (its queue at its share of the budget):
// append-only, encrypted segment files in <data dir>/capture-spool (directory 0700, files 0600),
// in the format of collector/capture_record.h. The producer appends records to an in-memory chunk
// (a copy, under the caller's lock); full chunks go to a writer thread that seals and writes them,
// so the app's IO threads never wait for the disk. The reader (AsyncTap's worker) takes sealed
// segments oldest first and removes each once decoded.
//
// Bounded: the segments on disk plus the chunks waiting for the writer stay within max_bytes; past
// it (until an eighth is free again), while the writer is behind by max_pending_chunks (or, with a
// budget that still has room, by max_pending_chunks_in_budget), or once the disk refused a write,
// append() refuses and the caller drops (counted, gap-marked). A chunk
// the writer cannot write becomes a loss marker in the segment order, so the reader marks gaps
// where its records were.
//
// Keys: one random AES-256 key per spool, held in memory. It reaches the disk only when the process
// stops with segments left (persist_key(): <data dir>/capture-spool.key, 0600, beside the CA key) so
// the next start on the same directory can replay them; it is removed once the spool is empty. A
// process killed without a stop leaves segments no key opens: the next start discards them, counted.
// One process at a time uses a spool directory (an flock on its .lock file).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "collector/capture_record.h"
#include "common/memory_budget.h"

namespace llmtap::capture {

struct SpoolOptions {
  std::string dir;       // the segments' directory, e.g. <data dir>/capture-spool
  std::string key_path;  // where persist_key() writes the key, e.g. <data dir>/capture-spool.key
  std::uint64_t max_bytes = std::uint64_t{4096} << 20;
  std::size_t chunk_bytes = 256u << 10;     // plaintext per sealed chunk
  std::size_t segment_bytes = 16u << 20;    // a segment is closed past this size (a stop rewrites at most one)
  std::size_t max_pending_chunks = 64;      // chunks waiting for the writer (at most 16 MB, charged to the budget)
  // A writer starved of CPU (a loaded machine) falls behind in bursts: past max_pending_chunks more
  // wait, up to this many, as long as the budget has room for them; only then is capture dropped.
  std::size_t max_pending_chunks_in_budget = 256;
  // The pipeline's shared budget, or null: the chunks in memory are charged to its capture queue.
  std::shared_ptr<MemoryBudget> budget;
};

// One unit of the spool's order, as the reader takes it.
struct SpoolItem {
  std::string path;                 // a sealed segment; "" for a loss marker
  std::uint64_t bytes = 0;          // its size on disk
  std::uint64_t records = 0;        // records of this process in it (0 for a leftover segment)
  bool leftover = false;            // found at open(): written by an earlier process
  std::set<std::pair<std::uint64_t, Direction>> lost;  // loss marker: connection directions hit
  std::uint64_t lost_bytes = 0;
};

struct SpoolStats {
  std::uint64_t disk_bytes = 0;         // segments on disk now
  std::uint64_t pending_bytes = 0;      // appended, not yet on disk
  std::uint64_t records_appended = 0;   // by this process
  std::uint64_t bytes_appended = 0;     // payload bytes of the records appended
  std::uint64_t refused_full = 0;       // append() refused: over max_bytes or the writer behind
  std::uint64_t refused_broken = 0;     // append() refused: the disk refused a write earlier
  std::uint64_t chunks_lost = 0;        // chunks the writer could not write
  std::uint64_t leftover_segments = 0;  // found at open()
  std::uint64_t unreadable_segments = 0;  // found at open() without their key: discarded
};

// A random id with the top bit set for one capturing process: XORed into an earlier run's
// connection ids on replay, it keeps them apart from this process's (small) ones.
std::uint64_t random_run_id();

class Spool {
 public:
  // Creates DIR (0700), takes its lock, finds segments left by an earlier process (readable with
  // the key file) and starts the writer. nullptr and *error when the directory cannot be used or
  // another process holds it.
  static std::unique_ptr<Spool> open(SpoolOptions opts, std::uint64_t run_id, std::string* error);
  ~Spool();  // finishes the writer's queue, closes the open segment
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Producer side; callers serialize calls. false: not kept (full, writer behind, or disk broken).
  bool append(RecordKind kind, Direction dir, std::uint64_t conn_id, UnixNanos ts, std::string_view bytes,
              const ConnectionInfo* info);

  // Reader side. Whether anything appended or left over has not yet been taken.
  bool has_unread() const;
  // Hands the open chunk to the writer and closes the segment after it, so that take() gets it.
  void seal();
  // The oldest item not yet taken; with WAIT, waits while the writer still owes one.
  std::optional<SpoolItem> take(bool wait);
  // Reads ITEM's segment chunk by chunk: ON_CHUNK(plaintext) returns false to stop early. "" when
  // the segment was read (or stopped early), else why it could not be (damage, wrong key, cut short).
  using ChunkFn = std::function<bool(const SegmentHeader&, std::string& plaintext)>;
  std::string read(const SpoolItem& item, const ChunkFn& on_chunk) const;
  // Removes ITEM's segment (decoded, or skipped as damaged).
  void remove(const SpoolItem& item);

  // Stop side: waits until everything appended is on disk in sealed segments.
  void flush_to_disk();
  // A segment ordered before every other one (the rest of what the reader had taken but not
  // decoded at a stop), written a chunk at a time so the rest never sits in memory twice. Each
  // begin_front() orders its segment before the previous one's.
  class Front {
   public:
    ~Front() { finish(); }
    void add(std::string_view plaintext);  // seals and writes one chunk of whole records
    std::string finish();                  // "" or the first error; a segment without chunks is removed
   private:
    friend class Spool;
    Front(Spool& spool, std::string path, SegmentHeader h) : spool_(spool), path_(std::move(path)), header_(h) {}
    Spool& spool_;
    std::string path_, error_, buf_;
    SegmentHeader header_;
    int fd_ = -1;
    std::uint32_t chunks_ = 0;
    std::uint64_t bytes_ = 0;
    bool finished_ = false;
  };
  std::unique_ptr<Front> begin_front(std::uint64_t run_id);
  // Segments on disk now (after flush_to_disk: everything undecoded).
  std::vector<std::string> segments() const;
  // Keeps the key for the next process when segments remain, removes it otherwise. "" or the error.
  std::string persist_key();
  // Removes the key file once no segment needs it (the reader drained what an earlier run left).
  void forget_key_if_empty();

  SpoolStats stats() const;
  const SpoolOptions& options() const { return opts_; }
  const Key& key() const { return key_; }

 private:
  struct Job {
    std::string plaintext;
    std::uint64_t records = 0;
    bool seal_after = false;
  };
  Spool(SpoolOptions opts, std::uint64_t run_id) : opts_(std::move(opts)), run_id_(run_id) {}
  std::string start();
  void writer_loop();
  bool write_chunk(const std::string& plaintext, std::string* error);  // writer thread only
  bool writer_behind_locked() const;
  void close_segment_locked();                                         // under mu_
  std::string segment_path(std::uint64_t seq) const;

  const SpoolOptions opts_;
  const std::uint64_t run_id_;
  Key key_{};
  int lock_fd_ = -1;
  std::atomic<bool> key_on_disk_{false};  // the key file exists (set and cleared on the reader's thread)

  mutable std::mutex mu_;
  std::condition_variable wake_writer_, sealed_cv_;
  std::string open_chunk_;
  std::uint64_t open_records_ = 0;
  std::deque<Job> jobs_;
  bool writer_busy_ = false, stop_writer_ = false, broken_ = false, full_ = false;
  std::deque<SpoolItem> sealed_;
  std::uint64_t front_seq_ = 0, next_seq_ = 0;
  SpoolStats stats_;
  std::thread writer_;

  // The segment being written (writer thread; path and counts read under mu_).
  int seg_fd_ = -1;
  std::string seg_path_;
  SegmentHeader seg_header_;
  std::string sealed_buf_;  // writer thread only: the chunk being sealed
  std::uint32_t seg_chunks_ = 0;
  std::uint64_t seg_bytes_ = 0, seg_records_ = 0;
};

}  // namespace llmtap::capture
