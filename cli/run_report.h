#pragma once
// What `llmtap run` prints to stderr when CMD has finished: each trace's tree (export's TreeRenderer)
// and a cost summary with token totals, then where the traces are stored.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "common/span.h"

namespace llmtap::cli {

struct CostSummary {
  std::int64_t generations = 0;
  std::int64_t input_tokens = 0, output_tokens = 0, cached_tokens = 0, reasoning_tokens = 0;
  std::optional<double> cost_usd;  // absent when no generation was priced
  std::int64_t unpriced_generations = 0;
};

// Sums generation spans only (agent and workflow spans carry roll-ups of the same numbers).
CostSummary summarize_costs(const std::vector<Trace>& traces);

// Writes the trees, the summary and the store path to OUT. EXPORTED_IDS are all traces closed by the
// run (one per workflow: ids repeat when workflows share a client's trace id); those missing from
// TRACES (no local store) are listed by id. Each trace id is shown and summed once.
void print_run_report(FILE* out, const std::vector<Trace>& traces, const std::string& store_path,
                      const std::vector<std::string>& exported_ids = {});

// Loads TRACE_IDS from the SQLite store at STORE_PATH, each id once (ids missing from it are skipped).
std::vector<Trace> load_traces(const std::string& store_path, const std::vector<std::string>& trace_ids,
                               std::string* error);

}  // namespace llmtap::cli
