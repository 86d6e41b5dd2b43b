#pragma once
// The narrow interfaces between the stages of the data flow. Each stage depends on the next one
// only through these, so stages are tested in isolation and wired together in cli/.
#include <chrono>

#include "common/model_call.h"
#include "common/span.h"

namespace llmtap {

// parsers/ -> trace/: one normalized record per finished HTTP exchange.
class ModelCallSink {
 public:
  virtual ~ModelCallSink() = default;
  virtual void on_model_call(ModelCall call) = 0;
};

// trace/ -> export/: one finished trace at a time. Implementations must not throw.
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void on_trace(const Trace& trace) = 0;
  // The same, for a trace its caller no longer needs: a sink that changes or keeps it (redaction, the
  // store's queue) takes it instead of copying it. Closing a burst of open traces hands over tens of
  // thousands; each copy is a few dozen allocations. By default it is seen as on_trace() sees it.
  virtual void take_trace(Trace&& trace) { on_trace(trace); }
  // Deliver or persist everything accepted so far (called on shutdown). Bounded in time.
  virtual void flush() {}
  // The process is stopping and must have exported by DEADLINE (SPEC: exit within 10 s of SIGTERM).
  // Called before the final flush(); a sink that retries (OTLP) may use the time until then, never more.
  virtual void stop_by(std::chrono::steady_clock::time_point /*deadline*/) {}
};

}  // namespace llmtap
