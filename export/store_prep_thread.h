#pragma once
// The store's second thread, beside the SQLite one: it reads a spool segment ahead of the writer
// (decoding each trace and encoding its rows, StoreWriter::prepare) so that the SQLite thread only
// binds and steps, and it frees the batches the writer is done with (a written trace's strings and
// vectors were ~11 % of the writer's instructions). In a burst most traces take the spool path
// (the queue full), so without it the SQLite thread decoded and encoded each of them itself.
// Bounded: at most kAhead batches read ahead, each of at most BATCH traces and 1/128 of the budget
// in their bytes, kMaxGarbage batches waiting to be freed (past that the caller frees its own);
// batches are charged to the store queue's share of the memory budget until they are freed: those
// read ahead, and those the writer hands to discard() with their charge (what it wrote).
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/memory_budget.h"
#include "common/span.h"
#include "export/store_encoding.h"

namespace llmtap::exporting {

class SpoolSegment;
class StoreWriter;

// Traces with their rows encoded beforehand (rows[i] for traces[i]; a row not ready is encoded by
// the writer).
struct PreparedBatch {
  std::vector<Trace> traces;
  std::vector<EncodedTrace> rows;
  std::size_t charged = 0;  // bytes charged to the budget while it is held (StorePrepThread)
  bool empty() const { return traces.empty(); }
};

class StorePrepThread {
 public:
  static constexpr std::size_t kAhead = 2;
  static constexpr std::size_t kMaxGarbage = 4;

  // WRITER encodes (prepare() is safe on any thread); BATCH: traces per prepared batch; BUDGET
  // (or null) is charged for the batches read ahead.
  StorePrepThread(const StoreWriter& writer, std::size_t batch, std::shared_ptr<MemoryBudget> budget);
  ~StorePrepThread();  // joins; what is still read ahead or waiting to be freed is freed
  StorePrepThread(const StorePrepThread&) = delete;
  StorePrepThread& operator=(const StorePrepThread&) = delete;

  // Starts reading SEGMENT ahead (one segment at a time: the previous one was taken back).
  void read(std::unique_ptr<SpoolSegment> segment);
  // The segment's next batch, waiting for it; false once every record has been handed out.
  bool next(PreparedBatch& out);
  // Stops reading and gives the segment back, positioned after the last record read; the batches
  // read but not handed out by next() are appended to UNTAKEN (oldest first).
  std::unique_ptr<SpoolSegment> take_back(std::vector<PreparedBatch>* untaken);
  // Frees BATCH on this thread (or here, when too many wait), releasing its charge once freed.
  void discard(PreparedBatch&& batch);

 private:
  void run();
  bool read_batch(PreparedBatch& out);  // off the lock; false at the segment's end
  void free_batches(std::vector<PreparedBatch>& batches);  // frees them, then releases their charge

  const StoreWriter& writer_;
  const std::size_t batch_;
  const std::shared_ptr<MemoryBudget> budget_;
  std::mutex mu_;
  std::condition_variable work_cv_;   // a segment to read, garbage, or stop
  std::condition_variable ready_cv_;  // a batch read, the segment's end, or reading paused
  std::unique_ptr<SpoolSegment> segment_;
  std::vector<PreparedBatch> ready_;    // read ahead, oldest first
  std::vector<PreparedBatch> garbage_;  // to free
  bool reading_ = false;   // this thread is in read_batch() (segment_ in use off the lock)
  bool at_end_ = false;    // segment_ has no more records
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace llmtap::exporting
