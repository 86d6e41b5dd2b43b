#pragma once
// Memory one thread frees that another allocated stays with the allocating thread's heap until that
// thread looks at it again (mimalloc: a page's cross-thread frees are collected only when its owner
// allocates from it), so a page whose blocks were all freed elsewhere is neither reused by the
// freeing thread nor returned to the OS. The pipeline's threads free each other's memory all the
// time (traces built on the decode thread and the ticker, freed on the export and store threads):
// when a burst of open traces closed, ~35 MB of such pages stayed resident (docs/benchmarks.md,
// "RSS of the 60 s run, round 3"). Each such thread calls HeapCollectTimer::tick() in its loop.
//
// The collect function is set once at start by the binary that chose the allocator (cli/main.cc:
// mimalloc's mi_collect); the libraries do not link it (the preload shim runs in the app's process).
#include <atomic>
#include <chrono>

namespace llmtap {

using HeapCollectFn = void (*)();

inline std::atomic<HeapCollectFn>& heap_collect_fn() {
  static std::atomic<HeapCollectFn> fn{nullptr};
  return fn;
}

// FN collects the calling thread's heap (null: nothing to do, as with glibc's malloc).
inline void set_heap_collect(HeapCollectFn fn) { heap_collect_fn().store(fn, std::memory_order_relaxed); }

// Per thread: collects its heap at most once per kInterval (a collect walks the thread's pages,
// tens of microseconds with tens of thousands of open traces).
class HeapCollectTimer {
 public:
  static constexpr std::chrono::milliseconds kInterval{100};

  void tick() {
    const HeapCollectFn fn = heap_collect_fn().load(std::memory_order_relaxed);
    if (fn == nullptr) return;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) return;
    next_ = now + kInterval;
    fn();
  }

 private:
  std::chrono::steady_clock::time_point next_{};
};

}  // namespace llmtap
