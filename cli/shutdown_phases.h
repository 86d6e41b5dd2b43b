#pragma once
// Times the phases of a SIGTERM stop (capture drain, closing the open traces, the sinks' flush) and
// logs each at info, so a slow stop says where its seconds went.
#include <chrono>
#include <string_view>

#include <spdlog/spdlog.h>

namespace llmtap::cli {

class ShutdownPhases {
 public:
  using Clock = std::chrono::steady_clock;
  // Logs "stopping: PHASE took N ms" for the time since the previous phase ended.
  void done(std::string_view phase) {
    const auto now = Clock::now();
    spdlog::info("stopping: {} took {} ms", phase, ms(last_, now));
    last_ = now;
  }

 private:
  static long long ms(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
  }
  Clock::time_point last_ = Clock::now();
};

}  // namespace llmtap::cli
