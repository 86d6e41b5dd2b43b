#pragma once
// `llmtap report`: what a time window of recorded traces adds up to. ReportBuilder takes traces one
// at a time (from any TraceSource), so a viewer or alerting can reuse the same numbers; the format_*
// functions turn the result into a terminal table, JSON or CSV. Attribution rules: SPEC.md "Report".
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/span.h"
#include "export/trace_facts.h"
#include "report/trace_source.h"

namespace llmtap::report {

enum class GroupBy { kAgent, kTool, kModel, kWorkflow, kUser, kSession, kRelease };
std::optional<GroupBy> parse_group_by(std::string_view name);
std::string_view to_string(GroupBy by);
inline constexpr const char* kGroupByNames = "agent, tool, model, workflow, user, session, release";

struct ReportOptions {
  UnixNanos since = 0;
  UnixNanos until = 0;
  GroupBy by = GroupBy::kAgent;
  int top = 5;                // most expensive traces listed (also loop runs listed in text)
  int loop_repeats = 3;       // a run calling one tool with the same arguments this often looks like a loop
  int loop_model_calls = 25;  // ... and so does a run with more model calls than this
};

struct Quantiles {  // nearest-rank percentiles
  double p50 = 0, p95 = 0, p99 = 0, max = 0, avg = 0;
};

struct CallGroup {
  std::string key;  // agent/model/workflow/user/session/release; "-" when the trace does not say
  std::int64_t calls = 0, errors = 0;
  Quantiles duration_ms;
  std::int64_t input_tokens = 0, cached_tokens = 0, output_tokens = 0, reasoning_tokens = 0;
  std::int64_t priced_calls = 0, unpriced_calls = 0;  // unpriced: usage reported, model not in the price table
  double cost_usd = 0;                                // over priced calls only
  double error_rate() const { return calls ? static_cast<double>(errors) / static_cast<double>(calls) : 0; }
};

struct ToolGroup {
  std::string name;
  std::int64_t calls = 0, failures = 0, unanswered = 0;
  Quantiles latency_ms;
  double requesting_cost_usd = 0;  // share of the cost of the generations that requested these calls
  double failure_rate() const { return calls ? static_cast<double>(failures) / static_cast<double>(calls) : 0; }
};

struct HandoffPath {
  std::string from, to;
  std::int64_t count = 0;
  std::int64_t completed = 0;  // the target agent then made a model call without error
};

struct TraceRow {
  std::string trace_id, workflow;
  UnixNanos start_ns = 0;
  double duration_ms = 0;
  std::optional<double> cost_usd;
  std::int64_t model_calls = 0, tool_calls = 0;
};

struct LoopRun {
  TraceRow trace;
  std::string reason;  // "search x4 with the same arguments", "31 model calls"
};

struct Report {
  ReportOptions options;
  std::int64_t traces = 0, spans = 0;
  CallGroup total;                  // key "TOTAL"
  std::vector<CallGroup> groups;    // by options.by (empty for --by tool); highest cost first
  std::vector<ToolGroup> tools;     // most calls first
  std::int64_t traces_with_handoff = 0;
  std::vector<HandoffPath> handoff_paths;  // most frequent first
  std::int64_t priced_traces = 0, unpriced_traces = 0;  // traces with / without any priced call
  Quantiles trace_cost_usd;         // over priced traces
  std::vector<TraceRow> top_traces;  // most expensive first, at most options.top
  Quantiles model_calls_per_run, tool_calls_per_run;
  std::int64_t failed_traces = 0;   // traces with at least one span with status ERROR
  Quantiles trace_duration_ms;      // per trace, first start to last end
  std::int64_t loop_runs = 0;
  std::vector<LoopRun> loops;       // the first ones seen (bounded), most model calls first
  bool tool_arguments_missing = false;  // some tool span had no recorded arguments (content capture off)
};

class ReportBuilder {
 public:
  explicit ReportBuilder(ReportOptions options);
  ~ReportBuilder();
  void add(const Trace& trace);
  // A trace already read into its facts (SPANS: its span count).
  void add(const std::string& trace_id, std::int64_t spans, const exporting::TraceFacts& facts);
  Report finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Reads SELECTION (its window is OPTIONS') from SOURCE and builds the report. *error on failure.
std::optional<Report> build_report(const TraceSource& source, const ReportOptions& options, std::string* error,
                                   TraceSelection selection = {});

std::string format_report_text(const Report& report);  // aligned tables, control characters escaped
nlohmann::json report_json(const Report& report);
std::string report_csv(const Report& report);          // the --by table (tools for --by tool), RFC 4180

}  // namespace llmtap::report
