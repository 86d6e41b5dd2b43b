#pragma once
// The terminal view of a trace: one line per span, nested by parent_span_id, children in start
// order, with duration, cost and errors. Also the same tree as JSON (`llmtap traces show --json`).
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/sinks.h"
#include "common/span.h"

namespace llmtap::exporting {

class TreeRenderer {
 public:
  //   Agent Run: Support Agent [380ms, $0.014]
  //   ├── Tool: search_knowledge_base [45ms]
  //   └── Handoff: → Billing Agent
  std::string render_text(const Trace& trace) const;
  // {"trace_id", "roots": [span fields + "label", "cost_usd", "children": [...]]}
  nlohmann::json render_json(const Trace& trace) const;

  static std::string label(const Span& span);             // "Tool: search_knowledge_base"
  static std::string format_duration(UnixNanos duration);  // "45ms", "1.25s"
  static std::string format_cost(double usd);              // "$0.014", "$0.00042", "$1.20"
};

// Prints each trace's tree as it completes.
class ConsoleExporter : public TraceSink {
 public:
  explicit ConsoleExporter(FILE* out = stderr) : out_(out) {}
  void on_trace(const Trace& trace) override;
  void flush() override;

 private:
  std::mutex mu_;
  FILE* out_;
  TreeRenderer renderer_;
};

}  // namespace llmtap::exporting
