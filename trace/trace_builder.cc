#include "trace/trace_builder.h"

#include "trace/trace_assembler.h"

namespace llmtap {

TraceBuilder::TraceBuilder(TraceOptions options, const Pricer* pricer, TraceSink& sink)
    : sink_(sink), assembler_(std::make_unique<trace::TraceAssembler>(std::move(options), pricer)) {}

TraceBuilder::~TraceBuilder() = default;

void TraceBuilder::on_model_call(ModelCall call) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (call.kind) {
    case ExchangeKind::kModelCall:
      ++stats_.model_calls;
      assembler_->add(call);
      return;
    case ExchangeKind::kTokenCount:
      ++stats_.token_counts;
      assembler_->count_tokens(call);  // a counter on its run, never a generation
      return;
    case ExchangeKind::kOther: ++stats_.other_exchanges; return;
  }
}

TraceBuilderStats TraceBuilder::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void TraceBuilder::tick(UnixNanos now) {
  std::vector<Trace> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done = assembler_->close_idle(now);
  }
  emit(done);
}

void TraceBuilder::emit(const std::vector<Trace>& traces) {
  // Outside mu_: a slow sink must not stall the collector thread.
  std::lock_guard<std::mutex> lock(emit_mu_);
  for (const auto& t : traces) sink_.on_trace(t);
}

void TraceBuilder::close_all(UnixNanos now) {
  (void)now;  // every open trace closes at its own last observed time
  std::vector<Trace> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done = assembler_->close_all();
  }
  emit(done);
  std::lock_guard<std::mutex> lock(emit_mu_);
  sink_.flush();
}

std::size_t TraceBuilder::open_traces() const {
  std::lock_guard<std::mutex> lock(mu_);
  return assembler_->open_traces();
}

}  // namespace llmtap
