#include "export/store_prep_thread.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "common/thread_priority.h"
#include "export/span_codec.h"
#include "export/store_spool.h"
#include "export/store_writer.h"

namespace llmtap::exporting {

StorePrepThread::StorePrepThread(const StoreWriter& writer, std::size_t batch, std::shared_ptr<MemoryBudget> budget)
    : writer_(writer), batch_(batch), budget_(std::move(budget)) {
  thread_ = std::thread([this] {
    enter_background_thread("llmtap-st-prep");  // at most 15 characters, or the name is not set
    run();
  });
}

StorePrepThread::~StorePrepThread() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
  free_batches(ready_);
  free_batches(garbage_);
}

void StorePrepThread::read(std::unique_ptr<SpoolSegment> segment) {
  {
    std::lock_guard lock(mu_);
    segment_ = std::move(segment);
    at_end_ = !segment_;
  }
  work_cv_.notify_all();
}

bool StorePrepThread::next(PreparedBatch& out) {
  std::unique_lock lock(mu_);
  ready_cv_.wait(lock, [&] { return !ready_.empty() || at_end_ || !segment_; });
  if (ready_.empty()) return false;
  out = std::move(ready_.front());
  ready_.erase(ready_.begin());
  lock.unlock();
  work_cv_.notify_all();  // room to read the next one
  return true;
}

std::unique_ptr<SpoolSegment> StorePrepThread::take_back(std::vector<PreparedBatch>* untaken) {
  std::unique_lock lock(mu_);
  ready_cv_.wait(lock, [&] { return !reading_; });
  for (auto& b : ready_) untaken->push_back(std::move(b));
  ready_.clear();
  at_end_ = false;
  return std::move(segment_);
}

void StorePrepThread::free_batches(std::vector<PreparedBatch>& batches) {
  // The charge goes once the memory is freed: batches waiting here are as much held as queued ones
  // (up to kMaxGarbage of them, each up to a thousand traces with their rows).
  std::size_t charged = 0;
  for (const auto& b : batches) charged += b.charged;
  batches.clear();
  if (budget_ && charged > 0) budget_->release(MemoryBudget::Account::kStoreQueue, charged);
}

void StorePrepThread::discard(PreparedBatch&& batch) {
  std::unique_lock lock(mu_);
  if (garbage_.size() >= kMaxGarbage || stop_) {
    lock.unlock();
    std::vector<PreparedBatch> freed_here;
    freed_here.push_back(std::move(batch));
    free_batches(freed_here);
    return;
  }
  garbage_.push_back(std::move(batch));
  lock.unlock();
  work_cv_.notify_all();
}

bool StorePrepThread::read_batch(PreparedBatch& out) {
  // A batch also ends at 1/128 of the budget in its traces' bytes: large traces (content capture)
  // must not make kAhead batches of BATCH traces a read-ahead no budget holds.
  const std::size_t max_bytes = budget_ ? std::max<std::size_t>(budget_->limit() / 128, 1) : SIZE_MAX;
  bool more = true;
  std::size_t bytes = 0;
  Trace t;
  while (out.traces.size() < batch_ && bytes < max_bytes && (more = segment_->next(t))) {
    bytes += codec::approx_size(t);
    out.traces.push_back(std::move(t));
  }
  // Rows after the traces have stopped moving (a row may point into its trace's strings).
  out.rows.resize(out.traces.size());
  for (std::size_t i = 0; i < out.traces.size(); ++i) {
    writer_.prepare(out.traces[i], out.rows[i]);
    bytes += out.rows[i].bytes();
  }
  if (budget_) budget_->charge(MemoryBudget::Account::kStoreQueue, bytes);
  out.charged = bytes;
  return more;
}

void StorePrepThread::run() {
  std::unique_lock lock(mu_);
  auto can_read = [&] { return segment_ && !at_end_ && ready_.size() < kAhead; };
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || !garbage_.empty() || can_read(); });
    if (!stop_ && can_read()) {  // the writer may be waiting for this: before freeing
      reading_ = true;
      lock.unlock();
      PreparedBatch batch;
      const bool more = read_batch(batch);
      lock.lock();
      reading_ = false;
      if (!batch.empty()) ready_.push_back(std::move(batch));
      if (!more) at_end_ = true;
      ready_cv_.notify_all();
      continue;
    }
    if (!garbage_.empty()) {
      std::vector<PreparedBatch> freeing = std::move(garbage_);
      garbage_.clear();
      lock.unlock();
      free_batches(freeing);
      lock.lock();
      continue;
    }
    if (stop_) return;
  }
}

}  // namespace llmtap::exporting
