#pragma once
// What a finished Trace holds in memory, estimated (the sizes of its strings plus per-object
// overhead): what the queues that hold finished traces charge to the memory budget.
#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "common/span.h"

namespace llmtap {

inline std::size_t approx_trace_bytes(const Trace& trace) {
  std::size_t n = sizeof(Trace) + trace.trace_id.size();
  for (const auto& s : trace.spans) {
    n += sizeof(Span) + s.trace_id.size() + s.span_id.size() + s.parent_span_id.size() + s.name.size() +
         s.status_message.size() + s.events.size() * (sizeof(SpanEvent) + 64);
    for (const auto& a : s.attributes) {
      n += sizeof(Attribute) + a.key.size();
      if (auto* str = std::get_if<std::string>(&a.value)) n += str->size();
      else if (auto* list = std::get_if<std::vector<std::string>>(&a.value))
        for (const auto& e : *list) n += sizeof(std::string) + e.size();
    }
  }
  return n;
}

}  // namespace llmtap
