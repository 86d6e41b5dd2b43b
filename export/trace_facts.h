#pragma once
// What the report reads of one trace, in one pass: per model call its group keys and usage, per tool
// call its latency and the cost of the generation that requested it, per handoff its path, and the
// run's totals. ReportBuilder (report/report.h) adds these up over a window; the store's write-time
// aggregates (store_aggregates.h) add them up per hour. Attribution rules: SPEC.md "llmtap report".
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/span.h"

namespace llmtap::exporting {

struct CallFacts {  // one generation span
  std::size_t span = 0;
  std::string agent, model, user, session;  // "" when the trace does not say
  bool error = false;
  double duration_ms = 0;
  std::int64_t input_tokens = 0, cached_tokens = 0, output_tokens = 0, reasoning_tokens = 0;
  std::optional<double> cost_usd;  // llm.cost.total
  bool usage_reported = false;     // input or output tokens present (unpriced when no cost)
};

struct ToolFacts {  // one tool span
  std::string name;  // "" when the span does not say
  bool failed = false, unanswered = false;
  double latency_ms = 0;
  double requesting_cost_usd = 0;  // the requesting generation's cost split over the calls it requested
};

struct HandoffFacts {
  std::string from, to;  // "" when the span does not say
  bool completed = false;  // the target agent then made a model call without error
};

// Whom a trace served, as the viewer's lists filter it: the root's user.id, else the first model
// call's; the root's gen_ai.conversation.id, else session.id (the root's, else the first model call's).
struct TraceParties {
  std::string user, session;
};
TraceParties trace_parties(const Trace& trace);

struct TraceFacts {
  std::string workflow, release;  // the root's, "" when there is no workflow root or it does not say
  TraceParties parties;
  UnixNanos start_ns = 0;         // first start
  double duration_ms = 0;         // first start to last end
  bool failed = false;            // some span has status ERROR
  std::int64_t model_calls = 0, tool_calls = 0;
  std::optional<double> cost_usd;  // over priced generations; absent when none was priced
  std::vector<CallFacts> calls;
  std::vector<ToolFacts> tools;
  std::vector<HandoffFacts> handoffs;
  std::string repeated_tool, repeated_arguments;  // the (tool, arguments) called most often (first in order)
  int repeats = 0;                                 // ... and how often
  bool tool_arguments_missing = false;             // some tool span had no recorded arguments
};

// TRACE's facts (a trace with no spans gives zeros).
TraceFacts trace_facts(const Trace& trace);

// Why the run looks like a loop ("search x4 with the same arguments", "31 model calls"), "" if not.
std::string loop_reason(const TraceFacts& facts, int loop_repeats, int loop_model_calls);

}  // namespace llmtap::exporting
