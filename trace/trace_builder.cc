#include "trace/trace_builder.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "trace/trace_assembler.h"

namespace llmtap {

namespace {
// Traces closed and handed to the sinks per part (idle, over budget, at the stop), so finished
// traces wait in memory a part at a time. A part is not charged to the budget until the export
// hand-off takes it: 256 finished single-call traces are ~1.4 MB (1,024 were ~5.5 MB, on the
// ticker and the decode thread at once).
constexpr std::size_t kClosePart = 256;
}  // namespace

TraceBuilder::TraceBuilder(TraceOptions options, const Pricer* pricer, TraceSink& sink)
    : sink_(sink), assembler_(std::make_unique<trace::TraceAssembler>(std::move(options), pricer)) {}

TraceBuilder::~TraceBuilder() = default;

void TraceBuilder::on_model_call(ModelCall call) {
  std::vector<Trace> over_budget;
  std::uint64_t turn = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    switch (call.kind) {
      case ExchangeKind::kModelCall:
        ++stats_.model_calls;
        assembler_->add(call);
        // A part at a time: the next call closes more if the budget is still exceeded.
        over_budget = assembler_->close_over_budget(kClosePart);
        if (!over_budget.empty()) turn = next_turn_++;
        break;
      case ExchangeKind::kTokenCount:
        ++stats_.token_counts;
        assembler_->count_tokens(call);  // a counter on its run, never a generation
        return;
      case ExchangeKind::kOther: ++stats_.other_exchanges; return;
    }
  }
  if (!over_budget.empty()) emit(turn, std::move(over_budget));
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

void TraceBuilder::tick(UnixNanos now, const std::atomic<bool>* stop) {
  std::string report;
  {
    std::lock_guard<std::mutex> lock(mu_);
    report = assembler_->budget().report_due(now);
  }
  if (!report.empty()) spdlog::warn("{}", report);
  // In parts: a burst's traces reach their idle timeout together, and tens of thousands of
  // finished traces held at once would be memory no budget counts.
  for (;;) {
    if (stop && stop->load(std::memory_order_relaxed)) break;
    std::vector<Trace> done;
    std::uint64_t turn = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done = assembler_->close_idle(now, kClosePart);
      if (!done.empty()) turn = next_turn_++;
    }
    if (done.empty()) break;
    emit(turn, std::move(done));
  }
}

template <class Deliver>
void TraceBuilder::in_turn(std::uint64_t turn, Deliver&& deliver) {
  // Outside mu_: a slow sink must not stall the collector thread.
  std::unique_lock<std::mutex> lock(emit_mu_);
  turn_done_.wait(lock, [&] { return serving_ == turn; });
  struct Done {  // the next turn goes on even if the sink throws
    TraceBuilder& b;
    ~Done() {
      ++b.serving_;
      b.turn_done_.notify_all();
    }
  } done{*this};
  deliver();
}

void TraceBuilder::emit(std::uint64_t turn, std::vector<Trace> traces) {
  in_turn(turn, [&] {
    for (auto& t : traces) sink_.take_trace(std::move(t));
  });
}

TraceBuilder::CloseAllTimes TraceBuilder::close_all(UnixNanos now) {
  (void)now;  // every open trace closes at its own last observed time
  // In parts: after a burst tens of thousands of traces are open, and each part reaches the sinks
  // before the next is built. In the pipeline the sink is the export hand-off (trace_hand_off.h):
  // building (here, under mu_) and exporting (redaction, the store's encoding or spool, on the
  // export thread) are each about half of a stop's work and share nothing, so on two cores they
  // overlap; the hand-off holds at most two parts.
  using Clock = std::chrono::steady_clock;
  Clock::duration building{}, emitting{};
  std::size_t closed = 0;
  for (;;) {
    std::vector<Trace> done;
    std::uint64_t turn = 0;
    const auto t0 = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      done = assembler_->close_all(kClosePart);
      if (!done.empty()) turn = next_turn_++;
    }
    const auto t1 = Clock::now();
    building += t1 - t0;
    if (done.empty()) break;
    closed += done.size();
    emit(turn, std::move(done));
    emitting += Clock::now() - t1;
  }
  auto ms = [](Clock::duration d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  CloseAllTimes times{closed, ms(building), ms(emitting), 0};
  std::uint64_t flush_turn = 0;  // after every emission built before it
  {
    std::lock_guard<std::mutex> lock(mu_);
    flush_turn = next_turn_++;
    if (const auto early = assembler_->budget().closed_early(); early > 0)
      spdlog::warn("{} trace(s) were closed before their idle timeout by the open-trace budget: {} because more "
                   "than {} were open (--max-open-traces), the rest by the memory budget (--memory-budget-mb)",
                   early, assembler_->budget().closed_early_by_count(), assembler_->budget().max_open());
  }
  in_turn(flush_turn, [&] {
    const auto f0 = Clock::now();
    sink_.flush();
    times.flush_ms = ms(Clock::now() - f0);
  });
  return times;
}

std::size_t TraceBuilder::open_traces() const {
  std::lock_guard<std::mutex> lock(mu_);
  return assembler_->open_traces();
}

}  // namespace llmtap
