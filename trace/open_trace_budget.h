#pragma once
// The memory budget of open traces: how many may be open at once, how many closed early because
// the budget was reached, and a log line about those at most once a minute. Closing early is
// the bound's price, never a loss: the trace is exported (marked llmtap.trace.closed_early) and
// a later call of its conversation starts a new trace.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/clock.h"

namespace llmtap::trace {

// The root span attribute of a trace the budget closed before its idle timeout.
inline constexpr const char* kClosedEarlyAttribute = "llmtap.trace.closed_early";

class OpenTraceBudget {
 public:
  static constexpr UnixNanos kReportIntervalNs = 60'000'000'000;  // once per minute

  explicit OpenTraceBudget(std::size_t max_open_traces) : max_open_(max_open_traces < 1 ? 1 : max_open_traces) {}

  std::size_t max_open() const { return max_open_; }
  bool exceeded(std::size_t open_traces) const { return open_traces > max_open_; }
  void record_early_close() { ++closed_early_; }
  std::uint64_t closed_early() const { return closed_early_; }

  // A line to log about the traces closed early since the last report, when there are any and
  // the last report is at least a minute old at NOW; "" otherwise.
  std::string report_due(UnixNanos now);

 private:
  std::size_t max_open_;
  std::uint64_t closed_early_ = 0;
  std::uint64_t reported_ = 0;  // closed_early_ at the last report
  UnixNanos last_report_ = 0;
};

}  // namespace llmtap::trace
