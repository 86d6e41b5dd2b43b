#include "trace/trace_hand_off.h"

#include "common/thread_priority.h"
#include "common/trace_size.h"

namespace llmtap {

TraceHandOff::TraceHandOff(TraceSink& next, std::shared_ptr<MemoryBudget> budget, std::size_t capacity)
    : next_(next), budget_(std::move(budget)), queue_(capacity, kWakeAt) {
  exporter_ = std::thread([this] {
    enter_background_thread("llmtap-export");
    run();
  });
}

TraceHandOff::~TraceHandOff() {
  queue_.close();  // the export thread hands over what is queued before it ends
  exporter_.join();
}

void TraceHandOff::on_trace(const Trace& trace) { take_trace(Trace(trace)); }

void TraceHandOff::take_trace(Trace&& trace) {
  Queued q{std::move(trace), 0};
  q.bytes = approx_trace_bytes(q.trace);
  if (budget_) budget_->charge(MemoryBudget::Account::kExportQueue, q.bytes);
  if (queue_.push(std::move(q))) return;
  // Closed (only while being destroyed): no thread is left to hand it over, so this one does.
  if (budget_) budget_->release(MemoryBudget::Account::kExportQueue, q.bytes);
  next_.take_trace(std::move(q.trace));
}

void TraceHandOff::flush() {
  queue_.wait_handled();
  next_.flush();
}

void TraceHandOff::run() {
  while (std::optional<Queued> q = queue_.pop()) {
    // Released once taken off the queue: from here NEXT holds (and charges) it.
    if (budget_) budget_->release(MemoryBudget::Account::kExportQueue, q->bytes);
    next_.take_trace(std::move(q->trace));
    q.reset();
    queue_.handled();
  }
}

}  // namespace llmtap
