#pragma once
// TraceBuilder: rebuilds agent runs from the stream of model calls (see issue 9 / SPEC.md).
//
// Sans-IO: it owns no thread and reads no clock; time comes from the calls' wire timestamps and
// from the `now` given to tick()/close_all(). Internally synchronized, so the collector thread
// and a timer may call it concurrently. Finished traces go to the TraceSink outside the lock, on
// the thread that closed them; the pipeline's sink is the export hand-off (trace_hand_off.h), so
// redaction and the store run on its export thread, not on the decode thread.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "common/sinks.h"
#include "pricing/cost.h"
#include "trace/trace_options.h"

namespace llmtap {

namespace trace {
class TraceAssembler;
}

// Exchanges seen, by kind: only model calls make generations; the others are only counted.
struct TraceBuilderStats {
  std::uint64_t model_calls = 0;
  std::uint64_t token_counts = 0;     // countTokens and the like
  std::uint64_t other_exchanges = 0;  // not model API calls (bootstrap, telemetry, model lists, ...)
  std::uint64_t closed_early = 0;     // traces closed before their idle timeout by the open-trace budget
  // Closed traces kept for late calls (TraceOptions::continuation_max_*): held now, dropped over
  // the bound, joined again by a late call, linked from a new turn's trace.
  std::uint64_t continuations_kept = 0;
  std::uint64_t continuations_evicted = 0;
  std::uint64_t continuations_rejoined = 0;
  std::uint64_t continuations_linked = 0;
};

class TraceBuilder : public ModelCallSink {
 public:
  // `pricer` may be null (no cost attributes then); it and `sink` must outlive the builder.
  TraceBuilder(TraceOptions options, const Pricer* pricer, TraceSink& sink);
  ~TraceBuilder() override;

  void on_model_call(ModelCall call) override;
  // Closes and emits every trace idle for longer than the idle timeout at `now`, in parts; once
  // *STOP is set it returns after the part being handed over (a stop closes the rest with
  // close_all(), so a sink that makes each delivery wait cannot hold the stop for a whole burst).
  void tick(UnixNanos now, const std::atomic<bool>* stop = nullptr);
  // What close_all() did, for the stop's one log line (cli/shutdown_phases.h).
  struct CloseAllTimes {
    std::size_t closed = 0;
    long long building_ms = 0, handing_ms = 0, flush_ms = 0;  // building and handing overlap
  };
  // Closes and emits every open trace (shutdown), a part at a time, then flushes the sink. With the
  // export hand-off as the sink (trace_hand_off.h) the next part is built while one is exported.
  CloseAllTimes close_all(UnixNanos now);

  // Traces currently open (for tests and stats).
  std::size_t open_traces() const;
  TraceBuilderStats stats() const;
  // Traces the open-trace budget (TraceOptions::max_open_traces) closed early, exported so marked.
  std::uint64_t closed_early_traces() const;

 private:
  // The sink takes them (TraceSink::take_trace) in `turn`'s order. Turns are taken under mu_
  // as the traces are built: a trace closed, revived by a late call and closed again is emitted
  // twice, maybe by two threads (the ticker, the decode thread), and the store keeps the version
  // that arrives last, so the later build must reach the sink last.
  void emit(std::uint64_t turn, std::vector<Trace> traces);
  // Runs `deliver` with the sink to itself once every earlier turn is done.
  template <class Deliver>
  void in_turn(std::uint64_t turn, Deliver&& deliver);

  TraceSink& sink_;
  mutable std::mutex mu_;
  std::uint64_t next_turn_ = 0;  // under mu_
  // The sink sees one call at a time, without holding up on_model_call (mu_ is not held).
  std::mutex emit_mu_;
  std::condition_variable turn_done_;
  std::uint64_t serving_ = 0;  // under emit_mu_
  std::unique_ptr<trace::TraceAssembler> assembler_;
  TraceBuilderStats stats_;  // under mu_
};

}  // namespace llmtap
