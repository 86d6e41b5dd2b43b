#include "common/thread_priority.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

namespace llmtap {
namespace {

constexpr int kNoBase = -1000;  // below any nice value (-20..19)

std::atomic<int> g_increment{kDefaultBackgroundNice};
// The nice value background threads count from: the thread that configured them (main). kNoBase
// until set_background_nice(): each background thread then counts from its own inherited value.
std::atomic<int> g_base{kNoBase};

int this_thread_nice() noexcept {
  errno = 0;
  const int n = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));  // per thread on Linux
  return errno == 0 ? n : 0;
}

}  // namespace

void set_background_nice(int increment) noexcept {
  g_increment.store(std::clamp(increment, 0, kBackgroundIdle), std::memory_order_relaxed);
  g_base.store(this_thread_nice(), std::memory_order_relaxed);
}

int background_nice() noexcept { return g_increment.load(std::memory_order_relaxed); }

bool enter_background_thread(const char* name) noexcept {
  name_this_thread(name);
  if (background_nice() == kBackgroundIdle) {
    // The nice value does not count under SCHED_IDLE (one weight for all); it is left as it is.
    const sched_param none{};
    return pthread_setschedparam(pthread_self(), SCHED_IDLE, &none) == 0;
  }
  int base = g_base.load(std::memory_order_relaxed);
  if (base == kNoBase) base = this_thread_nice();
  const int target = std::min(base + background_nice(), kMaxBackgroundNice);
  if (target == this_thread_nice()) return true;
  return setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), target) == 0;
}

}  // namespace llmtap
