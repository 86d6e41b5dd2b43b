#include "trace/trace_builder.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/thread_name.h"
#include "trace/trace_assembler.h"

namespace llmtap {

namespace {
// Traces closed and handed to the sinks per part (idle, over budget, at the stop), so finished
// traces wait in memory a part at a time.
constexpr std::size_t kClosePart = 1024;
}  // namespace

TraceBuilder::TraceBuilder(TraceOptions options, const Pricer* pricer, TraceSink& sink)
    : sink_(sink), assembler_(std::make_unique<trace::TraceAssembler>(std::move(options), pricer)) {}

TraceBuilder::~TraceBuilder() = default;

void TraceBuilder::on_model_call(ModelCall call) {
  std::vector<Trace> over_budget;
  {
    std::lock_guard<std::mutex> lock(mu_);
    switch (call.kind) {
      case ExchangeKind::kModelCall:
        ++stats_.model_calls;
        assembler_->add(call);
        // A part at a time: the next call closes more if the budget is still exceeded.
        over_budget = assembler_->close_over_budget(kClosePart);
        break;
      case ExchangeKind::kTokenCount:
        ++stats_.token_counts;
        assembler_->count_tokens(call);  // a counter on its run, never a generation
        return;
      case ExchangeKind::kOther: ++stats_.other_exchanges; return;
    }
  }
  emit(std::move(over_budget));
}

TraceBuilderStats TraceBuilder::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  TraceBuilderStats s = stats_;
  s.closed_early = assembler_->budget().closed_early();
  const trace::ContinuationStats c = assembler_->continuation_stats();
  s.continuations_kept = c.kept;
  s.continuations_evicted = c.evicted;
  s.continuations_rejoined = c.rejoined;
  s.continuations_linked = c.linked;
  return s;
}

std::uint64_t TraceBuilder::closed_early_traces() const { return stats().closed_early; }

void TraceBuilder::tick(UnixNanos now) {
  std::string report;
  {
    std::lock_guard<std::mutex> lock(mu_);
    report = assembler_->budget().report_due(now);
  }
  if (!report.empty()) spdlog::warn("{}", report);
  // In parts: a burst's traces reach their idle timeout together, and tens of thousands of
  // finished traces held at once would be memory no budget counts.
  for (;;) {
    std::vector<Trace> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done = assembler_->close_idle(now, kClosePart);
    }
    if (done.empty()) break;
    emit(std::move(done));
  }
}

void TraceBuilder::emit(std::vector<Trace> traces) {
  // Outside mu_: a slow sink must not stall the collector thread.
  std::lock_guard<std::mutex> lock(emit_mu_);
  for (auto& t : traces) sink_.take_trace(std::move(t));
}

void TraceBuilder::close_all(UnixNanos now) {
  (void)now;  // every open trace closes at its own last observed time
  // In parts: after a burst tens of thousands of traces are open, and each part reaches the sinks
  // (the store's queue or spool) while the next is built. Building (the assembler, under mu_) and
  // handing over (redaction, the store's encoding or spool, under emit_mu_) are each about half of
  // a stop's work and share nothing, so on two cores they overlap; at most kWaiting built parts wait.
  constexpr std::size_t kWaiting = 2;
  using Clock = std::chrono::steady_clock;
  Clock::duration building{}, emitting{};
  std::size_t closed = 0;
  std::mutex parts_mu;
  std::condition_variable parts_cv;
  std::deque<std::vector<Trace>> parts;
  bool built_all = false;
  std::thread emitter([&] {
    name_this_thread("llmtap-close");
    std::unique_lock lock(parts_mu);
    for (;;) {
      parts_cv.wait(lock, [&] { return !parts.empty() || built_all; });
      if (parts.empty()) return;
      std::vector<Trace> part = std::move(parts.front());
      parts.pop_front();
      lock.unlock();
      parts_cv.notify_all();
      const auto t0 = Clock::now();
      emit(std::move(part));
      lock.lock();
      emitting += Clock::now() - t0;
    }
  });
  for (;;) {
    std::vector<Trace> done;
    const auto t0 = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      done = assembler_->close_all(kClosePart);
    }
    building += Clock::now() - t0;
    if (done.empty()) break;
    closed += done.size();
    std::unique_lock lock(parts_mu);
    parts_cv.wait(lock, [&] { return parts.size() < kWaiting; });
    parts.push_back(std::move(done));
    lock.unlock();
    parts_cv.notify_all();
  }
  {
    std::lock_guard lock(parts_mu);
    built_all = true;
  }
  parts_cv.notify_all();
  emitter.join();
  auto ms = [](Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  if (closed > 0)
    spdlog::info("closed {} open trace(s): {} ms building them, {} ms handing them to the sinks (overlapping)", closed,
                 ms(building), ms(emitting));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (const auto early = assembler_->budget().closed_early(); early > 0)
      spdlog::warn("{} trace(s) were closed before their idle timeout by the open-trace budget: {} because more "
                   "than {} were open (--max-open-traces), the rest by the memory budget (--memory-budget-mb)",
                   early, assembler_->budget().closed_early_by_count(), assembler_->budget().max_open());
  }
  std::lock_guard<std::mutex> lock(emit_mu_);
  const auto f0 = Clock::now();
  sink_.flush();
  if (closed > 0) spdlog::info("sinks flushed in {} ms", ms(Clock::now() - f0));
}

std::size_t TraceBuilder::open_traces() const {
  std::lock_guard<std::mutex> lock(mu_);
  return assembler_->open_traces();
}

}  // namespace llmtap
