#pragma once
// Times the phases of a SIGTERM stop (pipeline.h: capture drain, closing the open traces and the
// sinks' hand-over, the store's spool past its deadline) and logs them as one line at info, so a
// slow stop says where its seconds went.
#include <chrono>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace llmtap::cli {

class ShutdownPhases {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ShutdownPhases(Clock::time_point began) : began_(began), last_(began) {}
  // PHASE took the time since the previous phase ended (DETAIL, if any, follows it in brackets).
  void done(std::string_view phase, std::string_view detail = {}) {
    const auto now = Clock::now();
    line_ += line_.empty() ? "" : ", ";
    line_ += std::string(phase) + " " + std::to_string(ms(last_, now)) + " ms";
    if (!detail.empty()) line_ += " (" + std::string(detail) + ")";
    last_ = now;
  }
  // "stopping: 7412 ms of the 8000 ms budget: proxy and collector 3 ms, capture drain 3001 ms, ..."
  void log(int budget_ms) const {
    spdlog::info("stopping: {} ms of the {} ms budget: {}", ms(began_, Clock::now()), budget_ms, line_);
  }

 private:
  static long long ms(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
  }
  const Clock::time_point began_;
  Clock::time_point last_;
  std::string line_;
};

}  // namespace llmtap::cli
