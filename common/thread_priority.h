#pragma once
// CPU priority of llmtap's own threads. The threads that forward the app's traffic (the proxy's IO
// threads, the preload collector, the capture spool writer that keeps capture from being dropped) run
// at the process's priority; the background work (decoding, trace building, exporting, the store,
// the ticker) runs at a lower one. On a machine with no free core the observer then yields to the
// observed: a request waits for the IO threads only, and what the background falls behind by is
// bounded by the memory budget and the capture spool (docs/benchmarks.md, "Background priority").
#include <pthread.h>

namespace llmtap {

// Linux nice increments: 10 gives a background thread about a tenth of a core's share against one
// busy IO thread and all of any idle core (weights 110 vs 1024). kBackgroundIdle puts background
// threads under the kernel's idle policy (SCHED_IDLE) instead: they run only on a core nothing else
// wants, and a forwarding thread that wakes takes the core from them at once (at 50 connections p99
// 1.0-1.4x nginx's against 2.0-2.4x at nice 10: docs/benchmarks.md, "The background at the idle
// policy"). Not the default: on a machine that never idles they get no share at all, and an
// unprivileged thread cannot leave the policy, so a stop there could wait on them past its budget.
inline constexpr int kMaxBackgroundNice = 19;
inline constexpr int kBackgroundIdle = kMaxBackgroundNice + 1;
inline constexpr int kDefaultBackgroundNice = 10;

// The increment (0..19, clamped; 0 keeps background threads at the IO threads' priority), or
// kBackgroundIdle (and above), that background threads started from now on take, over the calling
// thread's nice value. Called once at start, before the pipeline starts its threads.
void set_background_nice(int increment) noexcept;
int background_nice() noexcept;

// Names the calling thread as `top -H`, perf and /proc/PID/task/*/comm show it (at most 15 bytes).
inline void name_this_thread(const char* name) noexcept { pthread_setname_np(pthread_self(), name); }

// Names the calling thread and lowers its priority to the base set_background_nice() saw plus the
// increment (absolute, so a background thread started by another does not go lower), or to the idle
// policy. Returns the kernel's answer: false when it refused (the thread then runs at its inherited
// priority).
bool enter_background_thread(const char* name) noexcept;

}  // namespace llmtap
