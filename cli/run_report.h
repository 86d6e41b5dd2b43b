#pragma once
// What `llmtap run` prints to stderr when CMD has finished: each trace's tree (export's TreeRenderer)
// and a cost summary with token totals, then where the traces went. The trees come from RunTraces,
// an in-process sink fed by the pipeline like any exporter, so they are shown whatever the exporters
// are (OTLP only, JSONL, a store that could not be written).
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <optional>
#include <string>
#include <vector>

#include "common/sinks.h"
#include "common/span.h"

namespace llmtap::cli {

struct CostSummary {
  std::int64_t generations = 0;
  std::int64_t input_tokens = 0, output_tokens = 0, cached_tokens = 0, reasoning_tokens = 0;
  std::optional<double> cost_usd;  // absent when no generation was priced
  std::int64_t unpriced_generations = 0;

  // Adds TRACE's generation spans only (agent and workflow spans carry roll-ups of the same numbers).
  void add(const Trace& trace);
};

CostSummary summarize_costs(const std::vector<Trace>& traces);

// Every finished trace of this process, as built in memory (after redaction). Trees are kept without
// their content attributes (the tree does not show them) up to about MAX_KEPT_BYTES in all (bounded
// memory; 0 keeps none, as the proxy does); the count and the cost summary cover every trace. The
// ids of traces not kept are listed up to kMaxListedIds and counted past it. With 0 (no report to
// print: the proxy, `run --quiet`) only the count is kept: a proxy closes millions of traces, and a
// list of their ids grew by ~80 B a trace without bound (docs/benchmarks.md, "RSS of the 60 s run,
// round 3").
class RunTraces : public TraceSink {
 public:
  static constexpr std::size_t kDefaultKeptBytes = 32u << 20;
  static constexpr std::size_t kMaxListedIds = 1000;
  explicit RunTraces(std::size_t max_kept_bytes = kDefaultKeptBytes) : max_kept_bytes_(max_kept_bytes) {}
  void on_trace(const Trace& trace) override;

  struct Snapshot {
    std::vector<Trace> kept;          // in the order they finished
    std::size_t total = 0;            // traces finished (one per workflow root or more)
    std::size_t workflows = 0;        // workflow spans among them
    std::size_t distinct_ids = 0;     // distinct trace ids (workflows can share a client's traceparent id)
    std::vector<std::string> not_kept_ids;  // over the memory budget: listed by id only, the first kMaxListedIds
    std::size_t not_listed = 0;             // not kept and past kMaxListedIds: counted only
    CostSummary cost;
  };
  Snapshot snapshot() const;
  std::size_t total() const;

 private:
  const std::size_t max_kept_bytes_;
  mutable std::mutex mu_;
  Snapshot s_;
  std::size_t kept_bytes_ = 0;
  // Trace ids seen, to count each once; bounded (a long-running proxy sees millions): past the cap
  // every further trace counts as a new id.
  static constexpr std::size_t kMaxTrackedIds = 1u << 16;
  std::unordered_set<std::string> seen_ids_;
  std::unordered_set<std::string> seen_roots_;  // workflow span ids: a continued trace's root comes again
  std::unordered_map<std::string, std::size_t> kept_index_;  // trace id -> its tree in s_.kept
  static void merge_part(Trace& kept, Trace part);
};

// Writes the trees, the summary and the lines saying where the traces went (e.g. "store: PATH ...",
// "stored 0 of 3 traces: ...") to OUT.
void print_run_report(FILE* out, const RunTraces::Snapshot& run, const std::vector<std::string>& destinations);

}  // namespace llmtap::cli
