#pragma once
// TraceHandOff: what the trace builder closes traces into in the running pipeline. It queues each
// closed trace (common/bounded_queue.h, charged to the memory budget) for its export thread, which
// hands them to NEXT (redaction, metrics, the store) one at a time, in the order they closed. The
// thread that closed them (the decode thread closing traces early under the budget, the ticker
// closing idle ones, the stop closing every one) then waits for redaction and the store only while
// the hand-off is full: building traces and exporting them run on two threads, not one.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

#include "common/bounded_queue.h"
#include "common/memory_budget.h"
#include "common/sinks.h"

namespace llmtap {

class TraceHandOff final : public TraceSink {
 public:
  // Two of the builder's close parts (trace_builder.cc): a part can be built while one is exported.
  static constexpr std::size_t kDefaultCapacity = 2048;
  // The export thread, when idle, is woken once this many traces wait (else within 20 ms): one
  // wake per closed trace cost the decode thread a futex call and a context switch per call.
  static constexpr std::size_t kWakeAt = 64;

  // NEXT must outlive the hand-off. BUDGET (may be null) is charged for the queued traces.
  explicit TraceHandOff(TraceSink& next, std::shared_ptr<MemoryBudget> budget = nullptr,
                        std::size_t capacity = kDefaultCapacity);
  ~TraceHandOff() override;  // hands over what is still queued, then ends the export thread
  TraceHandOff(const TraceHandOff&) = delete;
  TraceHandOff& operator=(const TraceHandOff&) = delete;

  void on_trace(const Trace& trace) override;
  void take_trace(Trace&& trace) override;
  // Waits until every trace queued so far reached NEXT, then flushes NEXT.
  void flush() override;
  void stop_by(std::chrono::steady_clock::time_point deadline) override { next_.stop_by(deadline); }

  // Traces whose hand-off waited for room (the export thread was behind by the whole capacity).
  std::uint64_t full_waits() const { return queue_.full_waits(); }

 private:
  struct Queued {
    Trace trace;
    std::size_t bytes = 0;  // charged to the budget while queued
  };
  void run();

  TraceSink& next_;
  const std::shared_ptr<MemoryBudget> budget_;
  BoundedQueue<Queued> queue_;
  std::thread exporter_;
};

}  // namespace llmtap
