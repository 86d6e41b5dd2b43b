#include "trace/open_trace_budget.h"

namespace llmtap::trace {

std::string OpenTraceBudget::report_due(UnixNanos now) {
  if (closed_early_ == reported_) return "";
  if (last_report_ != 0 && now - last_report_ < kReportIntervalNs) return "";
  const std::uint64_t since = closed_early_ - reported_;
  reported_ = closed_early_;
  last_report_ = now;
  std::string why = "more than " + std::to_string(max_open_) + " traces were open (--max-open-traces)";
  if (memory_)
    why += " or the memory budget of " + std::to_string(memory_->limit() >> 20) +
           " MB was nearly used (--memory-budget-mb): " + std::to_string(closed_early_by_count_) + " by count, " +
           std::to_string(closed_early_ - closed_early_by_count_) + " by bytes";
  return std::to_string(since) + " trace(s) closed before their idle timeout: " + why + "; " +
         std::to_string(closed_early_) + " so far, each exported with " + kClosedEarlyAttribute + "=true";
}

}  // namespace llmtap::trace
