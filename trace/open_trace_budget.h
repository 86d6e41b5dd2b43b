#pragma once
// The memory budget of open traces: how many may be open at once and how many bytes the pipeline's
// shared MemoryBudget leaves them, how many closed early because either was reached, and a log line
// about those at most once a minute. Closing early is
// the bound's price, never a loss: the trace is exported (marked llmtap.trace.closed_early) and
// a later call of its conversation starts a new trace.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/memory_budget.h"

namespace llmtap::trace {

// The root span attribute of a trace the budget closed before its idle timeout.
inline constexpr const char* kClosedEarlyAttribute = "llmtap.trace.closed_early";

class OpenTraceBudget {
 public:
  static constexpr UnixNanos kReportIntervalNs = 60'000'000'000;  // once per minute

  explicit OpenTraceBudget(std::size_t max_open_traces, std::shared_ptr<MemoryBudget> memory = nullptr)
      : max_open_(max_open_traces < 1 ? 1 : max_open_traces), memory_(std::move(memory)) {}

  std::size_t max_open() const { return max_open_; }
  bool exceeded(std::size_t open_traces) const {
    return open_traces > max_open_ || (memory_ && open_traces > 0 && memory_->over_soft());
  }
  void record_early_close(std::size_t open_traces) {
    ++closed_early_;
    if (open_traces > max_open_) ++closed_early_by_count_;
  }
  std::uint64_t closed_early() const { return closed_early_; }
  // Of those, closed because more than max_open() were open (the rest: the byte budget).
  std::uint64_t closed_early_by_count() const { return closed_early_by_count_; }

  // What open traces charge to the shared budget: an estimate of the bytes one holds with its
  // conversation state, checked against counted allocations by open_trace_memory_test. Every trace
  // holds kTraceBytes besides its spans (its OpenTrace, Conversation, their index entries and
  // hash nodes: 793 B counted for a single chat call). A trace of one call keeps its spans in one
  // block (SpanTree's single-call form, SINGLE_CALL_BLOCK bytes, 200 for that call): charged as
  // it is, 1,000 B for the 993 held, where the per-span figure charged 1,344. Other traces are
  // charged kSpanBytes per span (a node and its share of attribute blocks).
  static constexpr std::size_t kTraceBytes = 800;
  static constexpr std::size_t kSpanBytes = 192;
  static std::size_t estimate(std::size_t spans, std::size_t single_call_block = 0) {
    return kTraceBytes + (single_call_block > 0 ? single_call_block : kSpanBytes * spans);
  }
  void charge(std::size_t bytes) {
    if (memory_) memory_->charge(MemoryBudget::Account::kOpenTraces, bytes);
  }
  void release(std::size_t bytes) {
    if (memory_) memory_->release(MemoryBudget::Account::kOpenTraces, bytes);
  }

  // A line to log about the traces closed early since the last report, when there are any and
  // the last report is at least a minute old at NOW; "" otherwise.
  std::string report_due(UnixNanos now);

 private:
  std::size_t max_open_;
  std::shared_ptr<MemoryBudget> memory_;
  std::uint64_t closed_early_ = 0;
  std::uint64_t closed_early_by_count_ = 0;
  std::uint64_t reported_ = 0;  // closed_early_ at the last report
  UnixNanos last_report_ = 0;
};

}  // namespace llmtap::trace
