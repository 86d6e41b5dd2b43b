#pragma once
// `llmtap traces export`: one JSON object per trace, for building evaluation sets: the run's input
// (system instructions and messages of its first model call), every tool call with arguments and
// result, handoffs, the final output (the last top-level model call's output), cost and latency.
// Every string is redacted exactly as the exporters redact (export/redactor.h). Prompts, outputs,
// arguments and results exist only when the traces were recorded with content capture on.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "common/span.h"
#include "report/trace_source.h"

namespace llmtap::report {

nlohmann::json eval_case_json(const Trace& trace);

// Writes one line per selected trace to OUT; returns how many, or -1 with *error.
long export_eval_cases(const TraceSource& source, const TraceSelection& selection, std::FILE* out,
                       std::string* error, long limit = -1);

}  // namespace llmtap::report
