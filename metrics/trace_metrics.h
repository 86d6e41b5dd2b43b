#pragma once
// Metrics from closed traces, counted as each trace passes on to the exporters: the OpenTelemetry
// GenAI client histograms (gen_ai.client.token.usage, gen_ai.client.operation.duration, in their
// Prometheus names), cost by model, agent and workflow, tool calls and failures, traces.
#include <memory>
#include <string>

#include "common/sinks.h"
#include "metrics/exposition.h"

namespace llmtap::metrics {

class TraceMetrics {
 public:
  explicit TraceMetrics(std::size_t max_series_per_family = 1000);
  void record(const Trace& trace);
  void write(Exposition& out) const;

 private:
  HistogramFamily token_usage_, duration_;
  CounterFamily cost_, unpriced_, tool_calls_, tool_failures_, traces_, model_calls_;
};

// Records each trace into METRICS, then hands it to NEXT unchanged.
class MetricsTraceSink final : public TraceSink {
 public:
  MetricsTraceSink(TraceMetrics& metrics, TraceSink& next) : metrics_(metrics), next_(next) {}
  void on_trace(const Trace& trace) override {
    metrics_.record(trace);
    next_.on_trace(trace);
  }
  void take_trace(Trace&& trace) override {
    metrics_.record(trace);
    next_.take_trace(std::move(trace));
  }
  void flush() override { next_.flush(); }
  void stop_by(std::chrono::steady_clock::time_point deadline) override { next_.stop_by(deadline); }

 private:
  TraceMetrics& metrics_;
  TraceSink& next_;
};

}  // namespace llmtap::metrics
