#pragma once
// `llmtap traces export`: selected traces as JSONL eval cases (report/eval_export.h).
#include <string>
#include <vector>

namespace llmtap::cli {

extern const char* const kTracesExportHelp;
// ARGS: what follows `llmtap traces export`.
int run_traces_export(const std::vector<std::string>& args);

}  // namespace llmtap::cli
