#pragma once
// What the rules read from one closed trace, worked out once for all of them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/span.h"

namespace llmtap::alerts {

struct TraceFacts {
  std::string trace_id;
  std::string workflow;
  UnixNanos end_ns = 0;
  std::optional<double> cost_usd;  // sum of llm.cost.total, absent when nothing was priced
  std::int64_t model_calls = 0;
  struct Generation {
    std::string agent;  // the nearest agent span's gen_ai.agent.name, "" when none
    double seconds = 0;
  };
  std::vector<Generation> generations;
  struct Tool {
    std::string name;
    bool failed = false;
  };
  std::vector<Tool> tools;
  // Loops: the tool called most often with one set of arguments, and how often.
  std::string most_repeated_tool;
  std::int64_t most_repeats = 0;
};

TraceFacts trace_facts(const Trace& trace);

}  // namespace llmtap::alerts
