#pragma once
// One byte budget for everything the pipeline holds in memory on behalf of the traffic: the capture
// queue (bytes waiting to be decoded), open traces and their conversation state, the closed-trace
// index (continuations), the export hand-off (closed traces waiting for redaction and the store,
// trace/trace_hand_off.h) and the store's queue (closed traces waiting for the disk). Each holder
// charges what it holds to its account; all of them read the same total, so one holder's growth
// makes the others shed (--memory-budget-mb, SPEC.md "Memory").
//
// Who sheds what, in this order, so that capture is the last resort:
//   - at the soft limit (7/8 of the budget) the store queue spools new traces to disk instead of
//     queueing them, the oldest idle open traces close early (exported, marked), and the
//     closed-trace index evicts its least recently used entries; none of this loses a trace;
//   - at the hard limit (the budget) the capture queue drops bytes (counted), because the tap must
//     never block the app. The capture queue also has a share of its own (capture_queue_share()),
//     so a decoder that falls behind cannot make every open trace close early; the store queue has
//     one too (store_queue_share()), so a decoder catching up on a backlog faster than the disk
//     takes it spools closed traces rather than fill the budget.
// The charges are estimates of live bytes (sizes of what is held plus per-entry overhead), read
// and written with relaxed atomics: a holder may overshoot by one item, never without bound.
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace llmtap {

class MemoryBudget {
 public:
  enum class Account : std::uint8_t { kCaptureQueue, kOpenTraces, kClosedTraceIndex, kStoreQueue, kExportQueue, kCount };
  static constexpr std::size_t kAccounts = static_cast<std::size_t>(Account::kCount);
  // The default keeps a full-speed proxy under 256 MB RSS (docs/benchmarks.md, "memory run"): the
  // rest is code, TLS and connection buffers, the store's page cache and allocator overhead.
  static constexpr std::size_t kDefaultBytes = std::size_t{128} << 20;

  explicit MemoryBudget(std::size_t limit_bytes = kDefaultBytes) : limit_(limit_bytes < 1 ? 1 : limit_bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  std::size_t limit() const { return limit_; }
  std::size_t soft_limit() const { return limit_ - limit_ / 8; }
  // The queues' own bounds within the budget: 3/8 in payload for the capture queue (about half with
  // each record's overhead), 1/4 for the store's queue.
  std::size_t capture_queue_share() const { return limit_ / 8 * 3; }
  std::size_t store_queue_share() const { return limit_ / 4; }

  void charge(Account a, std::size_t bytes) { held_[index(a)].fetch_add(bytes, std::memory_order_relaxed); }
  void release(Account a, std::size_t bytes) { held_[index(a)].fetch_sub(bytes, std::memory_order_relaxed); }
  std::size_t held(Account a) const { return held_[index(a)].load(std::memory_order_relaxed); }
  std::size_t used() const {
    std::size_t sum = 0;
    for (const auto& h : held_) sum += h.load(std::memory_order_relaxed);
    return sum;
  }

  // Whether BYTES more stay within the soft limit (store queue) or the hard limit (capture queue).
  bool fits_soft(std::size_t bytes) const { return used() + bytes <= soft_limit(); }
  bool fits_hard(std::size_t bytes) const { return used() + bytes <= limit_; }
  // Past the soft limit: open traces close early and the closed-trace index evicts.
  bool over_soft() const { return used() > soft_limit(); }

 private:
  static std::size_t index(Account a) { return static_cast<std::size_t>(a); }

  const std::size_t limit_;
  std::atomic<std::size_t> held_[kAccounts] = {};
};

}  // namespace llmtap
