#pragma once
// One line per trace for lists (the viewer's traces and sessions): who, what, how long, how much,
// and the filters a list is narrowed by. Same attribute rules as the report (SPEC.md "llmtap report").
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/span.h"

namespace llmtap::report {

struct TraceOverview {
  std::string trace_id;
  std::string workflow;  // root's gen_ai.workflow.name, "" when the trace does not say
  std::string user;      // root's user.id, else the first model call's
  std::string session;   // root's gen_ai.conversation.id, else session.id (root, else first model call's)
  UnixNanos start_ns = 0, end_ns = 0;
  std::vector<std::string> agents, models;  // distinct, in order of appearance
  std::int64_t spans = 0, model_calls = 0, tool_calls = 0, errors = 0;  // errors: spans with status ERROR
  std::int64_t input_tokens = 0, output_tokens = 0;
  std::optional<double> cost_usd;  // sum over priced model calls; absent when none was priced
};

TraceOverview overview_of(const Trace& trace);

// What a list keeps, beyond TraceSelection's window, workflow and agent (applied by the source).
struct TraceFilter {
  enum class Errors { kAny, kOnly, kNone };
  std::string model, user, session;  // "" any; model: one of TraceOverview::models
  Errors errors = Errors::kAny;
  std::optional<double> min_cost, max_cost;  // a bound excludes traces without a priced call
  bool matches(const TraceOverview& t) const;
};

}  // namespace llmtap::report
