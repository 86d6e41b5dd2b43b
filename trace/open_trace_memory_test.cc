// Memory held per open trace, counted by this binary's own operator new/delete (malloc_usable_size
// of every live block). Issue 16 asks for at most 1 KB per open idle single-call trace; today's
// figure is printed (9.7 KB before the compact span storage, 2.2 KB once the side-call evidence of
// each conversation was added, 1.7 KB with interned values, varint integers, smaller span nodes,
// hashed response ids and hash maps instead of trees, 1.25 KB with shared string and attribute
// blocks, 8-byte vectors, 96-byte span nodes and 2-byte attribute heads, 993 B with the
// single-call trace's spans in one block) and held under 1 KB (docs/benchmarks.md says where
// the bytes go).
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace {

std::atomic<long long> g_live_bytes{0};

void* counted_alloc(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  g_live_bytes.fetch_add(static_cast<long long>(malloc_usable_size(p)), std::memory_order_relaxed);
  return p;
}
void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<long long>(malloc_usable_size(p)), std::memory_order_relaxed);
  std::free(p);
}

}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }

namespace llmtap::trace::testing {
namespace {

class NullSink : public TraceSink {
 public:
  std::size_t traces = 0;
  void on_trace(const Trace&) override { ++traces; }
};

long long live() { return g_live_bytes.load(); }

TEST(OpenTraceMemory, IdleSingleCallTraceHoldsAtMostOneKilobyte) {
  constexpr int kTraces = 4000;
  NullSink sink;
  FakePricer pricer;
  TraceOptions o;
  o.idle_timeout_ns = 3'600'000 * kMs;  // nothing closes by time during the test
  o.max_open_traces = kTraces * 2;
  auto memory = std::make_shared<MemoryBudget>(std::size_t{1} << 30);
  o.memory_budget = memory;
  auto builder = std::make_unique<TraceBuilder>(o, &pricer, sink);
  // Warm up once-only allocations (hash tables' first buckets, interned keys).
  for (int i = 0; i < 200; ++i) builder->on_model_call(distinct_chat_call(-1 - i, kT0));
  const long long before = live();
  const std::size_t charged_before = memory->held(MemoryBudget::Account::kOpenTraces);
  for (int i = 0; i < kTraces; ++i) builder->on_model_call(distinct_chat_call(i, kT0 + i * kMs));
  const long long per_trace = (live() - before) / kTraces;
  const auto charged_per_trace =
      static_cast<long long>((memory->held(MemoryBudget::Account::kOpenTraces) - charged_before) / kTraces);
  ASSERT_EQ(builder->open_traces(), static_cast<std::size_t>(kTraces + 200));
  RecordProperty("bytes_per_open_trace", static_cast<int>(per_trace));
  std::printf("bytes held per open idle single-call trace: %lld\n", per_trace);
  EXPECT_LE(per_trace, 1024);
  // The shared memory budget is charged at least what the traces hold, and at most 5 % more (the
  // single-call block is charged as allocated; the per-span estimate charged 1,344 B for 993).
  std::printf("bytes charged to the memory budget per such trace: %lld\n", charged_per_trace);
  EXPECT_GE(charged_per_trace, per_trace);
  EXPECT_LE(charged_per_trace, per_trace * 21 / 20);
  builder->close_all(0);
  EXPECT_EQ(sink.traces, static_cast<std::size_t>(kTraces + 200));
  EXPECT_EQ(memory->held(MemoryBudget::Account::kOpenTraces), 0u);
}

}  // namespace
}  // namespace llmtap::trace::testing
