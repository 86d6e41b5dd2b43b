#pragma once
// Names the calling thread as `top -H`, perf and /proc/PID/task/*/comm show it (at most 15 bytes).
#include <pthread.h>

namespace llmtap {

inline void name_this_thread(const char* name) noexcept { pthread_setname_np(pthread_self(), name); }

}  // namespace llmtap
