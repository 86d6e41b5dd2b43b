#include "trace/open_trace_budget.h"

namespace llmtap::trace {

std::string OpenTraceBudget::report_due(UnixNanos now) {
  if (closed_early_ == reported_) return "";
  if (last_report_ != 0 && now - last_report_ < kReportIntervalNs) return "";
  const std::uint64_t since = closed_early_ - reported_;
  reported_ = closed_early_;
  last_report_ = now;
  return std::to_string(since) + " trace(s) closed before their idle timeout: more than " +
         std::to_string(max_open_) + " traces were open (--max-open-traces); " + std::to_string(closed_early_) +
         " so far, each exported with " + kClosedEarlyAttribute + "=true";
}

}  // namespace llmtap::trace
