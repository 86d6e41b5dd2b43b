#pragma once
// What the benchmarks measure per step: this thread's CPU time and the heap in use (glibc).
#include <malloc.h>
#include <time.h>

namespace llmtap::bench {

inline double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

inline long long heap_bytes() { return static_cast<long long>(mallinfo2().uordblks); }

}  // namespace llmtap::bench
